import { NOW, applyCommand, day, iso, refusal } from '../testing/spec-helpers';
import { PROVIDER_LOG } from '../approval/dual-control';
import { decide, evolveCommit, TenantLog, type KeywardCommand, type KeywardEvent } from '../keyset/keyset';
import { ROLES, type Actor, type Role } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import { decidePrincipal, evolvePrincipal, type PrincipalCommand, type PrincipalState } from './principal';

// ---------------------------------------------------------------------------------------------
// Test-only helpers.
// ---------------------------------------------------------------------------------------------

const TENANT = 'tnt_acme0001';
const PRN = 'prn_bob000001';
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const PROVIDER: Actor = { principalId: 'prn_root00001', role: 'provider-admin' };

const ctxAt = (now: Date = NOW, actor: Actor = ADMIN): DecisionContext => ({ now, actor, correlationId: `corr-${now.getTime()}` });

function apply(log: TenantLog, command: KeywardCommand, ctx: DecisionContext = ctxAt()): KeywardEvent[] {
  return applyCommand(log, command, ctx);
}

function tenantLog(): TenantLog {
  const log = new TenantLog(TENANT);
  apply(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme' }, ctxAt(day(-30), PROVIDER));
  return log;
}

const create = (extra: Partial<Extract<PrincipalCommand, { kind: 'principal.create' }>> = {}): PrincipalCommand => ({
  kind: 'principal.create',
  principalId: PRN,
  name: 'bob',
  role: 'key-user',
  ...extra,
});
const revoke: PrincipalCommand = { kind: 'principal.revoke', principalId: PRN };

// ---------------------------------------------------------------------------------------------

describe('principal lifecycle (tenant log)', () => {
  it('creates a principal', () => {
    const log = tenantLog();
    const events = apply(log, create(), ctxAt(day(-2)));
    expect(events).toEqual([
      {
        type: 'principal.created.v1',
        data: { principalId: PRN, name: 'bob', role: 'key-user' },
        actor: ADMIN,
        correlationId: `corr-${day(-2).getTime()}`,
        at: iso(-2),
      },
    ]);
    expect(log.principals.get(PRN)).toEqual<PrincipalState>({
      principalId: PRN,
      name: 'bob',
      role: 'key-user',
      createdAt: iso(-2),
      revokedAt: null,
    });
  });

  it.each(ROLES.filter((r) => r !== 'provider-admin'))('creates a principal with role %s', (role: Role) => {
    expect(decide(create({ role }), tenantLog(), ctxAt())).toEqual([
      { type: 'principal.created.v1', data: { principalId: PRN, name: 'bob', role } },
    ]);
  });

  it('refuses provider-admin principals in a tenant log, and other roles in the provider log', () => {
    expect(refusal(() => decide(create({ role: 'provider-admin' }), tenantLog(), ctxAt())).code).toBe('invalid');
    expect(refusal(() => decide(create({ role: 'key-user' }), new TenantLog(PROVIDER_LOG), ctxAt(NOW, PROVIDER))).code).toBe('invalid');
    expect(
      refusal(() =>
        decide(
          { kind: 'key.create', keyId: 'key_abcdefgh', keyType: 'AES-256-GCM', kcv: 'k' },
          new TenantLog(PROVIDER_LOG),
          ctxAt(NOW, PROVIDER),
        ),
      ).code,
    ).toBe('invalid');
  });

  it('refuses to create the same principal twice (already-exists), even after revocation', () => {
    const log = tenantLog();
    apply(log, create(), ctxAt(day(-2)));
    expect(refusal(() => decide(create({ name: 'other' }), log, ctxAt())).code).toBe('already-exists');
    apply(log, revoke, ctxAt(day(-1)));
    expect(refusal(() => decide(create(), log, ctxAt())).code).toBe('already-exists');
  });

  it('revokes a principal, keeping who it was', () => {
    const log = tenantLog();
    apply(log, create(), ctxAt(day(-2)));
    const events = apply(log, revoke, ctxAt(day(-1)));
    expect(events.map((e) => [e.type, e.data])).toEqual([['principal.revoked.v1', { principalId: PRN }]]);
    expect(log.principals.get(PRN)).toEqual({ principalId: PRN, name: 'bob', role: 'key-user', createdAt: iso(-2), revokedAt: iso(-1) });
  });

  it('refuses to revoke twice (illegal-transition) and leaves the first revocation time', () => {
    const log = tenantLog();
    apply(log, create(), ctxAt(day(-2)));
    apply(log, revoke, ctxAt(day(-1)));
    expect(refusal(() => decide(revoke, log, ctxAt())).code).toBe('illegal-transition');
    expect(log.principals.get(PRN)?.revokedAt).toBe(iso(-1));
  });

  it('refuses to revoke an unknown principal (not-found)', () => {
    expect(refusal(() => decide(revoke, tenantLog(), ctxAt())).code).toBe('not-found');
  });

  it('keeps principals of different ids apart', () => {
    const log = tenantLog();
    apply(log, create());
    apply(log, create({ principalId: 'prn_carol0001', name: 'carol', role: 'auditor' }));
    apply(log, revoke);
    expect(log.principals.get(PRN)?.revokedAt).toBe(NOW.toISOString());
    expect(log.principals.get('prn_carol0001')).toMatchObject({ name: 'carol', role: 'auditor', revokedAt: null });
    expect(log.principals.size).toBe(2);
  });
});

describe('principal name', () => {
  it.each(['a', 'Z', '0', 'bob', 'alice.smith@example.com', 'ci bot_1-x', 'x'.repeat(128)])('accepts %j', (name) => {
    expect(decide(create({ name }), tenantLog(), ctxAt())[0]?.data).toMatchObject({ name });
  });

  it.each(['', ' bob', '.bob', '-bob', '@bob', '_bob', 'x'.repeat(129), 'bob/admin', 'bob\n', 'bób', 'bob<script>', 'bob:pw'])(
    'refuses %j as invalid',
    (name) => {
      expect(refusal(() => decide(create({ name }), tenantLog(), ctxAt())).code).toBe('invalid');
    },
  );

  it('checks existence before the name', () => {
    const log = tenantLog();
    apply(log, create());
    expect(refusal(() => decide(create({ name: '' }), log, ctxAt())).code).toBe('already-exists');
  });
});

describe('the provider log', () => {
  it('accepts principal commands without a tenant.onboarded event', () => {
    const log = new TenantLog(PROVIDER_LOG);
    expect(log.tenant).toBeUndefined();
    apply(log, create({ principalId: 'prn_root00002', name: 'ops', role: 'provider-admin' }), ctxAt(day(-1), PROVIDER));
    expect(log.principals.get('prn_root00002')).toEqual({
      principalId: 'prn_root00002',
      name: 'ops',
      role: 'provider-admin',
      createdAt: iso(-1),
      revokedAt: null,
    });
    apply(log, { kind: 'principal.revoke', principalId: 'prn_root00002' }, ctxAt(NOW, PROVIDER));
    expect(log.principals.get('prn_root00002')?.revokedAt).toBe(NOW.toISOString());
    expect(refusal(() => decide({ kind: 'principal.revoke', principalId: 'prn_root00002' }, log, ctxAt())).code).toBe('illegal-transition');
    expect(log.tenant).toBeUndefined();
    expect(log.seq).toBe(2);
  });

  it('a log with any other id needs its tenant (not-found before onboarding)', () => {
    const error = refusal(() => decide(create(), new TenantLog('tnt_other0001'), ctxAt()));
    expect(error.code).toBe('not-found');
  });
});

describe('decidePrincipal / evolvePrincipal', () => {
  it('decide through the log gives the same answer as decidePrincipal', () => {
    const log = tenantLog();
    expect(decide(create(), log, ctxAt())).toEqual(decidePrincipal(create(), undefined));
  });

  it('ignores a revocation of a principal that does not exist', () => {
    expect(
      evolvePrincipal(undefined, {
        type: 'principal.revoked.v1',
        data: { principalId: PRN },
        actor: ADMIN,
        correlationId: 'c',
        at: NOW.toISOString(),
      }),
    ).toBeUndefined();
    const log = tenantLog();
    evolveCommit(log, {
      seq: 2,
      events: [{ type: 'principal.revoked.v1', data: { principalId: PRN }, actor: ADMIN, correlationId: 'c', at: NOW.toISOString() }],
    });
    expect(log.principals.has(PRN)).toBe(false);
  });
});
