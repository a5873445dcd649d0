import { applyCommand, day, NOW, refusal } from '../testing/spec-helpers';
import { decide, evolveCommit, TenantLog, type KeywardCommand, type KeywardEvent } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import { needsApproval, sensitiveOperation } from '../approval/dual-control';
import { grantModeOf } from './authorize';
import type { GrantCommand } from './grant';
import type { GrantMode, GrantOperation } from './grant.types';

const TENANT = 'tnt_grant0001';
const PROVIDER: Actor = { principalId: 'prn_provider01', role: 'provider-admin' };
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const ADMIN2: Actor = { principalId: 'prn_admin0002', role: 'tenant-admin' };
const USER = 'prn_user00001';
const AUDITOR = 'prn_audit0001';
const ctx = (actor: Actor = ADMIN, now: Date = NOW): DecisionContext => ({ now, actor, correlationId: 'c' });

function tenant(grants?: GrantMode): TenantLog {
  const log = new TenantLog(TENANT);
  applyCommand(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme', ...(grants ? { grants } : {}) }, ctx(PROVIDER, day(-10)));
  const steps: KeywardCommand[] = [
    { kind: 'principal.create', principalId: ADMIN.principalId, name: 'admin', role: 'tenant-admin' },
    { kind: 'principal.create', principalId: USER, name: 'app', role: 'key-user' },
    { kind: 'principal.create', principalId: AUDITOR, name: 'aud', role: 'auditor' },
    { kind: 'key.create', keyId: 'key_a0000001', keyType: 'AES-256-GCM', kcv: 'k1' },
  ];
  for (const step of steps) applyCommand(log, step, ctx(ADMIN, day(-9)));
  return log;
}

const create = (over: Partial<Extract<GrantCommand, { kind: 'grant.create' }>> = {}): GrantCommand => ({
  kind: 'grant.create',
  grantId: 'grt_g0000001',
  principalId: USER,
  operations: ['encrypt', 'decrypt'],
  keys: { ids: ['key_a0000001'] },
  conditions: {},
  ...over,
});

describe('grant.create and grant.revoke', () => {
  it('records a grant, normalised, and folds it into the principal index', () => {
    const log = tenant();
    const events = applyCommand(
      log,
      create({ operations: ['decrypt', 'encrypt', 'decrypt'], keys: { labels: { team: 'pay', env: 'prod' } } }),
      ctx(),
    );
    expect(events.map((e) => [e.type, e.data])).toEqual([
      [
        'grant.created.v1',
        {
          grantId: 'grt_g0000001',
          principalId: USER,
          operations: ['encrypt', 'decrypt'],
          keys: { labels: { env: 'prod', team: 'pay' } },
          conditions: {},
        },
      ],
    ]);
    expect(log.grantsOf(USER).map((g) => g.grantId)).toEqual(['grt_g0000001']);
    expect(log.grants.get('grt_g0000001')).toMatchObject({ createdBy: ADMIN, createdAt: NOW.toISOString(), revokedAt: null });
  });

  it('normalises conditions (instants to ISO, sorted context)', () => {
    const log = tenant();
    const [event] = applyCommand(
      log,
      create({
        conditions: {
          encryptionContext: { z: '1', a: '2' },
          aad: 'YWJj',
          notBefore: '2030-06-15T13:00:00+01:00',
          notAfter: '2031-01-01T00:00:00Z',
          certificateBound: true,
        },
      }),
      ctx(),
    );
    expect((event as KeywardEvent & { data: { conditions: unknown } }).data.conditions).toEqual({
      encryptionContext: { a: '2', z: '1' },
      aad: 'YWJj',
      notBefore: '2030-06-15T12:00:00.000Z',
      notAfter: '2031-01-01T00:00:00.000Z',
      certificateBound: true,
    });
  });

  it('revokes: the grant stays in the log, leaves the principal index, and cannot be revoked twice', () => {
    const log = tenant();
    applyCommand(log, create(), ctx());
    const events = applyCommand(log, { kind: 'grant.revoke', grantId: 'grt_g0000001' }, ctx(ADMIN2));
    expect(events.map((e) => [e.type, e.data])).toEqual([['grant.revoked.v1', { grantId: 'grt_g0000001', principalId: USER }]]);
    expect(log.grantsOf(USER)).toEqual([]);
    expect(log.grants.get('grt_g0000001')).toMatchObject({ revokedBy: ADMIN2, revokedAt: NOW.toISOString() });
    expect(refusal(() => decide({ kind: 'grant.revoke', grantId: 'grt_g0000001' }, log, ctx())).code).toBe('illegal-transition');
    expect(refusal(() => decide({ kind: 'grant.revoke', grantId: 'grt_nope00001' }, log, ctx())).code).toBe('not-found');
  });

  it.each<[string, Partial<Extract<GrantCommand, { kind: 'grant.create' }>>, string]>([
    ['an unknown principal', { principalId: 'prn_nobody001' }, 'not-found'],
    ['an auditor', { principalId: AUDITOR }, 'invalid'],
    ['a tenant-admin', { principalId: ADMIN.principalId }, 'invalid'],
    ['no operation', { operations: [] }, 'invalid'],
    ['an unknown operation', { operations: ['encrypt', 'launch'] as unknown as GrantOperation[] }, 'invalid'],
    ['two selectors', { keys: { ids: ['key_a0000001'], aliasPrefix: 'pay/' } }, 'invalid'],
    ['no selector', { keys: {} as { ids: string[] } }, 'invalid'],
    ['an empty id list', { keys: { ids: [] } }, 'invalid'],
    ['a bad key id', { keys: { ids: ['../etc'] } }, 'invalid'],
    ['101 ids', { keys: { ids: Array.from({ length: 101 }, (_, i) => `key_${String(i).padStart(8, '0')}`) } }, 'invalid'],
    ['a bad alias prefix', { keys: { aliasPrefix: '/pay' } }, 'invalid'],
    ['an empty label selector', { keys: { labels: {} } }, 'invalid'],
    ['a bad label name', { keys: { labels: { 'Bad Name': 'x' } } }, 'invalid'],
    ['an empty context', { conditions: { encryptionContext: {} } }, 'invalid'],
    ['AAD that is not base64', { conditions: { aad: 'not base64!' } }, 'invalid'],
    ['notBefore after notAfter', { conditions: { notBefore: '2031-01-01T00:00:00Z', notAfter: '2030-12-01T00:00:00Z' } }, 'invalid'],
    ['a past notAfter', { conditions: { notAfter: '2030-06-15T11:59:59Z' } }, 'invalid'],
    ['a malformed instant', { conditions: { notBefore: 'tomorrow' } }, 'invalid'],
  ])('refuses a grant with %s', (_, over, code) => {
    expect(refusal(() => decide(create(over), tenant(), ctx())).code).toBe(code);
  });

  it('refuses a grant to a revoked principal, a duplicate id, and grants in the provider log', () => {
    const log = tenant();
    applyCommand(log, create(), ctx());
    expect(refusal(() => decide(create(), log, ctx())).code).toBe('already-exists');
    applyCommand(log, { kind: 'principal.revoke', principalId: USER }, ctx());
    expect(refusal(() => decide(create({ grantId: 'grt_g0000002' }), log, ctx())).code).toBe('illegal-transition');
    expect(refusal(() => decide(create(), new TenantLog('provider'), ctx(PROVIDER))).code).toBe('invalid');
  });

  it('refuses grants in a suspended tenant', () => {
    const log = tenant();
    applyCommand(log, { kind: 'tenant.suspend', tenantId: TENANT }, ctx(PROVIDER));
    expect(refusal(() => decide(create(), log, ctx())).code).toBe('tenant-inactive');
  });

  it('refuses the 1001st grant in force of one principal, and counts revoked ones out', () => {
    const log = tenant();
    for (let i = 0; i < 1000; i++) applyCommand(log, create({ grantId: `grt_${String(i).padStart(8, '0')}` }), ctx());
    expect(refusal(() => decide(create({ grantId: 'grt_x0000001' }), log, ctx())).code).toBe('quota-exceeded');
    applyCommand(log, { kind: 'grant.revoke', grantId: 'grt_00000000' }, ctx());
    expect(decide(create({ grantId: 'grt_x0000001' }), log, ctx())).toHaveLength(1);
  });
});

describe('grant creation under dual control', () => {
  function twoAdmins(operations?: string[]): TenantLog {
    const log = tenant();
    applyCommand(log, { kind: 'principal.create', principalId: ADMIN2.principalId, name: 'admin2', role: 'tenant-admin' }, ctx());
    if (operations) {
      // The policy change is itself dual-controlled with two admins: fold its event as an executed approval would.
      const at = NOW.toISOString();
      const policy = { ...log.tenant!.policy, dualControl: { quorum: null, operations } };
      evolveCommit(log, {
        seq: log.seq + 1,
        events: [
          { type: 'tenant.policy-set.v1', data: { tenantId: TENANT, policy }, actor: ADMIN, correlationId: 'c', at },
        ] as KeywardEvent[],
      });
    }
    return log;
  }

  it('is not dual-controlled by default (the default policy does not list grant.create)', () => {
    const log = twoAdmins();
    expect(sensitiveOperation(create(), log)).toBe('grant.create');
    expect(needsApproval(create(), log)).toBe(false);
    expect(decide(create(), log, ctx())).toHaveLength(1);
  });

  it('needs a second administrator when the policy lists grant.create; revocation never does', () => {
    const log = twoAdmins(['grant.create']);
    expect(needsApproval(create(), log)).toBe(true);
    expect(refusal(() => decide(create(), log, ctx())).code).toBe('approval-required');
    const [requested] = applyCommand(log, { kind: 'approval.request', approvalId: 'apr_00000001', command: create() }, ctx());
    expect(requested?.type).toBe('approval.requested.v1');
    const done = applyCommand(log, { kind: 'approval.approve', approvalId: 'apr_00000001' }, ctx(ADMIN2));
    expect(done.map((e) => e.type)).toEqual(['approval.granted.v1', 'grant.created.v1', 'approval.executed.v1']);
    expect(log.grantsOf(USER)).toHaveLength(1);
    expect(needsApproval({ kind: 'grant.revoke', grantId: 'grt_g0000001' }, log)).toBe(false);
  });
});

describe('tenant grant mode', () => {
  it('is required for tenants onboarded now, open when asked', () => {
    expect(grantModeOf(tenant())).toBe('required');
    expect(grantModeOf(tenant('open'))).toBe('open');
  });

  it('is open for a log written before grants existed (no mode on onboarding), and a policy set without a mode keeps it', () => {
    const log = new TenantLog(TENANT);
    const at = day(-100).toISOString();
    const old = (type: string, data: unknown): KeywardEvent => ({ type, data, actor: PROVIDER, correlationId: 'c', at }) as KeywardEvent;
    evolveCommit(log, { seq: 1, events: [old('tenant.onboarded.v1', { tenantId: TENANT, name: 'Old' })] });
    expect(grantModeOf(log)).toBe('open');
    const { grants: _none, ...oldPolicy } = { ...log.tenant!.policy, allowCompromisedDecrypt: true };
    evolveCommit(log, { seq: 2, events: [old('tenant.policy-set.v1', { tenantId: TENANT, policy: oldPolicy })] });
    expect(grantModeOf(log)).toBe('open');
    const required = tenant();
    evolveCommit(required, {
      seq: required.seq + 1,
      events: [old('tenant.policy-set.v1', { tenantId: TENANT, policy: { ...oldPolicy, grants: undefined } })],
    });
    expect(grantModeOf(required)).toBe('required');
  });

  it('switches by tenant.set-policy, and refuses an unknown mode', () => {
    const log = tenant('open');
    applyCommand(log, { kind: 'tenant.set-policy', tenantId: TENANT, policy: { grants: 'required' } }, ctx());
    expect(grantModeOf(log)).toBe('required');
    const bad = { kind: 'tenant.set-policy', tenantId: TENANT, policy: { grants: 'sometimes' } } as unknown as KeywardCommand;
    expect(refusal(() => decide(bad, log, ctx())).code).toBe('invalid');
    const badOnboard = { kind: 'tenant.onboard', tenantId: 'tnt_other0001', name: 'X', grants: 'never' } as unknown as KeywardCommand;
    expect(refusal(() => decide(badOnboard, new TenantLog('tnt_other0001'), ctx(PROVIDER))).code).toBe('invalid');
  });
});
