import { NOW, applyCommand, day, iso, refusal } from '../testing/spec-helpers';
import type { ExistingKeyCommand, CreateKey } from '../key/key.commands';
import { decide, TenantLog, type KeywardCommand, type KeywardEvent } from '../keyset/keyset';
import type { PrincipalCommand } from '../principal/principal';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import { DomainError, type DomainErrorCode } from '../shared/domain-error';
import {
  DEFAULT_TENANT_POLICY,
  POLICY_OF_UNRECORDED_ONBOARDINGS,
  decideTenant,
  evolveTenant,
  type TenantCommand,
  type TenantEvent,
  type TenantPolicy,
  type TenantState,
  type TenantStatus,
} from './tenant';

// ---------------------------------------------------------------------------------------------
// Test-only helpers.
// ---------------------------------------------------------------------------------------------

const TENANT = 'tnt_acme0001';
const KEY = 'key_first0001';
const PROVIDER: Actor = { principalId: 'prn_provider01', role: 'provider-admin' };
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };

const ctxAt = (now: Date = NOW, actor: Actor = PROVIDER): DecisionContext => ({ now, actor, correlationId: `corr-${now.getTime()}` });

function apply(log: TenantLog, command: KeywardCommand, ctx: DecisionContext = ctxAt()): KeywardEvent[] {
  return applyCommand(log, command, ctx);
}

const onboard: TenantCommand = { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme' };
const suspend: TenantCommand = { kind: 'tenant.suspend', tenantId: TENANT, reason: 'unpaid invoice' };
const resume: TenantCommand = { kind: 'tenant.resume', tenantId: TENANT };
const offboard: TenantCommand = { kind: 'tenant.offboard', tenantId: TENANT };

type Status = 'not onboarded' | TenantStatus;

/** A tenant log in the given status, built by folding real events (onboarded at day -30). */
function logIn(status: Status): TenantLog {
  const log = new TenantLog(TENANT);
  if (status === 'not onboarded') return log;
  apply(log, onboard, ctxAt(day(-30)));
  if (status === 'Suspended') apply(log, suspend, ctxAt(day(-20)));
  if (status === 'Offboarded') apply(log, offboard, ctxAt(day(-20)));
  return log;
}

// ---------------------------------------------------------------------------------------------
// Every tenant status × every tenant command, written out by hand.
// ---------------------------------------------------------------------------------------------

type Outcome = { readonly event: string; readonly data: unknown; readonly to: TenantStatus } | { readonly refused: DomainErrorCode };
const COMMANDS = { onboard, suspend, resume, offboard };
type CommandName = keyof typeof COMMANDS;

/** What onboarding records: the grant mode and the whole policy the tenant starts with (the default of the day). */
const STARTING_POLICY = { ...DEFAULT_TENANT_POLICY, grants: 'required' };
const ONBOARDED: Outcome = {
  event: 'tenant.onboarded.v1',
  data: { tenantId: TENANT, name: 'Acme', grants: 'required', policy: STARTING_POLICY },
  to: 'Active',
};
/** What a tenant onboarded today starts with: grants required. */
const NEW_TENANT_POLICY = { ...DEFAULT_TENANT_POLICY, grants: 'required' as const };
const SUSPENDED: Outcome = { event: 'tenant.suspended.v1', data: { tenantId: TENANT, reason: 'unpaid invoice' }, to: 'Suspended' };
const RESUMED: Outcome = { event: 'tenant.resumed.v1', data: { tenantId: TENANT }, to: 'Active' };
const OFFBOARDED: Outcome = { event: 'tenant.offboarded.v1', data: { tenantId: TENANT }, to: 'Offboarded' };
const NOT_FOUND: Outcome = { refused: 'not-found' };
const EXISTS: Outcome = { refused: 'already-exists' };
const ILLEGAL: Outcome = { refused: 'illegal-transition' };

/* prettier-ignore */
const MATRIX: Record<Status, Record<CommandName, Outcome>> = {
  'not onboarded': { onboard: ONBOARDED, suspend: NOT_FOUND, resume: NOT_FOUND, offboard: NOT_FOUND  },
  Active:          { onboard: EXISTS,    suspend: SUSPENDED, resume: ILLEGAL,   offboard: OFFBOARDED },
  Suspended:       { onboard: EXISTS,    suspend: ILLEGAL,   resume: RESUMED,   offboard: OFFBOARDED },
  Offboarded:      { onboard: EXISTS,    suspend: ILLEGAL,   resume: ILLEGAL,   offboard: ILLEGAL    },
};

const STATUSES: Status[] = ['not onboarded', 'Active', 'Suspended', 'Offboarded'];
const CASES = STATUSES.flatMap((status) =>
  (Object.keys(COMMANDS) as CommandName[]).map((command) => ({ status, command, outcome: MATRIX[status][command] })),
);

describe('tenant lifecycle: every status x every tenant command', () => {
  it.each(CASES)('$status / $command', ({ status, command, outcome }) => {
    const log = logIn(status);
    const before = structuredClone(log.tenant);
    if ('refused' in outcome) {
      const error = refusal(() => decide(COMMANDS[command], log, ctxAt()));
      expect(error.code).toBe(outcome.refused);
      expect(error.details).toMatchObject({ tenantId: TENANT });
      expect(log.tenant).toEqual(before);
      return;
    }
    const events = apply(log, COMMANDS[command]);
    expect(events).toEqual([
      { type: outcome.event, data: outcome.data, actor: PROVIDER, correlationId: `corr-${NOW.getTime()}`, at: NOW.toISOString() },
    ]);
    expect(log.tenant).toEqual<TenantState>({
      tenantId: TENANT,
      name: 'Acme',
      status: outcome.to,
      policy: NEW_TENANT_POLICY,
      onboardedAt: before?.onboardedAt ?? NOW.toISOString(),
      updatedAt: NOW.toISOString(),
    });
  });

  it('decideTenant and decide agree (tenant commands pass straight through)', () => {
    for (const { status, command } of CASES) {
      const log = logIn(status);
      let direct: unknown;
      let routed: unknown;
      try {
        direct = decideTenant(COMMANDS[command], log.tenant);
      } catch (error) {
        direct = error instanceof DomainError ? error.code : error;
      }
      try {
        routed = decide(COMMANDS[command], log, ctxAt());
      } catch (error) {
        routed = error instanceof DomainError ? error.code : error;
      }
      expect(routed).toEqual(direct);
    }
  });

  it('reports the status in the details of an illegal tenant transition', () => {
    expect(refusal(() => decide(resume, logIn('Active'), ctxAt())).details).toEqual({ tenantId: TENANT, status: 'Active' });
  });

  it('can go round Active → Suspended → Active → Suspended → Offboarded', () => {
    const log = logIn('Active');
    apply(log, suspend, ctxAt(day(-5)));
    apply(log, resume, ctxAt(day(-4)));
    apply(log, { kind: 'tenant.suspend', tenantId: TENANT }, ctxAt(day(-3)));
    apply(log, offboard, ctxAt(day(-2)));
    expect(log.tenant).toEqual({
      tenantId: TENANT,
      name: 'Acme',
      status: 'Offboarded',
      policy: NEW_TENANT_POLICY,
      onboardedAt: iso(-30),
      updatedAt: iso(-2),
    });
    expect(log.seq).toBe(5);
  });
});

describe('tenant.suspend reason', () => {
  it.each([
    ['missing', undefined, ''],
    ['padded', '  fraud review  ', 'fraud review'],
    ['longer than 512', 'r'.repeat(600), 'r'.repeat(512)],
  ])('is normalised when %s', (_, reason, expected) => {
    expect(
      decide({ kind: 'tenant.suspend', tenantId: TENANT, ...(reason === undefined ? {} : { reason }) }, logIn('Active'), ctxAt()),
    ).toEqual([{ type: 'tenant.suspended.v1', data: { tenantId: TENANT, reason: expected } }]);
  });
});

describe('tenant name', () => {
  it.each([
    ['Acme', 'Acme'],
    ['  Acme Corp  ', 'Acme Corp'],
    ["O'Brien & Sons Ltd.", "O'Brien & Sons Ltd."],
    ['Ünïcode GmbH', 'Ünïcode GmbH'],
    ['株式会社', '株式会社'],
    ['3M', '3M'],
    ['a_b-c', 'a_b-c'],
    ['x'.repeat(128), 'x'.repeat(128)],
  ])('accepts %j (stored as %j)', (name, stored) => {
    const log = new TenantLog(TENANT);
    expect(apply(log, { kind: 'tenant.onboard', tenantId: TENANT, name }).map((e) => e.data)).toEqual([
      { tenantId: TENANT, name: stored, grants: 'required', policy: STARTING_POLICY },
    ]);
    expect(log.tenant?.name).toBe(stored);
  });

  it.each(['', '   ', '-Acme', '.Acme', "'quoted'", 'x'.repeat(129), 'Acme/Evil', 'Acme<script>', 'Acme\nCorp', 'Acme@corp', 'Acme#1'])(
    'refuses %j as invalid',
    (name) => {
      expect(refusal(() => decide({ kind: 'tenant.onboard', tenantId: TENANT, name }, new TenantLog(TENANT), ctxAt())).code).toBe(
        'invalid',
      );
    },
  );

  it('checks existence before the name', () => {
    expect(refusal(() => decide({ kind: 'tenant.onboard', tenantId: TENANT, name: '' }, logIn('Active'), ctxAt())).code).toBe(
      'already-exists',
    );
  });
});

describe('tenant.onboard with a first admin', () => {
  it('creates the first tenant-admin principal in the same commit', () => {
    const log = new TenantLog(TENANT);
    const events = apply(log, {
      kind: 'tenant.onboard',
      tenantId: TENANT,
      name: 'Acme',
      firstAdmin: { principalId: 'prn_first0001', name: 'alice' },
    });
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['tenant.onboarded.v1', { tenantId: TENANT, name: 'Acme', grants: 'required', policy: STARTING_POLICY }],
      ['principal.created.v1', { principalId: 'prn_first0001', name: 'alice', role: 'tenant-admin' }],
    ]);
    expect(log.tenant?.status).toBe('Active');
    expect(log.principals.get('prn_first0001')).toEqual({
      principalId: 'prn_first0001',
      name: 'alice',
      role: 'tenant-admin',
      createdAt: NOW.toISOString(),
      revokedAt: null,
    });
  });

  it('refuses an invalid first admin name, and creates nothing', () => {
    const log = new TenantLog(TENANT);
    const command: TenantCommand = {
      kind: 'tenant.onboard',
      tenantId: TENANT,
      name: 'Acme',
      firstAdmin: { principalId: 'prn_first0001', name: ' bad' },
    };
    expect(refusal(() => decide(command, log, ctxAt())).code).toBe('invalid');
    expect(log.tenant).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Key and principal commands are only decided for an Active tenant.
// ---------------------------------------------------------------------------------------------

const CREATE_KEY: CreateKey = { kind: 'key.create', keyId: KEY, keyType: 'AES-256-GCM', kcv: 'KCV0001' };
const KEY_COMMANDS: readonly ExistingKeyCommand[] = [
  { kind: 'key.activate', keyId: KEY },
  { kind: 'key.deactivate', keyId: KEY },
  { kind: 'key.compromise', keyId: KEY, reason: 'leak' },
  { kind: 'key.rotate', keyId: KEY, kcv: 'KCV0002' },
  { kind: 'key.schedule-destruction', keyId: KEY },
  { kind: 'key.cancel-destruction', keyId: KEY },
  { kind: 'key.destroy', keyId: KEY },
  { kind: 'key.set-alias', keyId: KEY, alias: 'new' },
  { kind: 'key.change-labels', keyId: KEY, set: { a: 'b' } },
  { kind: 'key.set-description', keyId: KEY, description: 'd' },
  { kind: 'key.set-min-decryption-version', keyId: KEY, version: 1 },
];
const PRINCIPAL_COMMANDS: readonly PrincipalCommand[] = [
  { kind: 'principal.create', principalId: 'prn_new000001', name: 'bob', role: 'key-user' },
  { kind: 'principal.revoke', principalId: 'prn_admin0001' },
];
const GUARDED: readonly KeywardCommand[] = [CREATE_KEY, ...KEY_COMMANDS, ...PRINCIPAL_COMMANDS];

/** A tenant with one PreActive key and one principal, then put into `status`. */
function populated(status: 'Active' | 'Suspended' | 'Offboarded'): TenantLog {
  const log = new TenantLog(TENANT);
  apply(log, onboard, ctxAt(day(-30)));
  apply(log, { ...CREATE_KEY, alias: 'old', labels: { env: 'prod' } }, ctxAt(day(-29), ADMIN));
  apply(log, { kind: 'principal.create', principalId: 'prn_admin0001', name: 'alice', role: 'tenant-admin' }, ctxAt(day(-29)));
  if (status === 'Suspended') apply(log, suspend, ctxAt(day(-20)));
  if (status === 'Offboarded') apply(log, offboard, ctxAt(day(-20)));
  return log;
}

describe('key and principal commands need an Active tenant', () => {
  it('covers every key and principal command kind', () => {
    expect(new Set(GUARDED.map((c) => c.kind)).size).toBe(14);
  });

  it.each((['Suspended', 'Offboarded'] as const).flatMap((status) => GUARDED.map((command) => ({ status, kind: command.kind, command }))))(
    '$status tenant: $kind is refused with tenant-inactive',
    ({ status, command }) => {
      const log = populated(status);
      const error = refusal(() => decide(command, log, ctxAt(NOW, ADMIN)));
      expect(error.code).toBe('tenant-inactive');
      expect(error.details).toEqual({ tenantId: TENANT, status });
    },
  );

  it.each(GUARDED.map((command) => ({ kind: command.kind, command })))(
    'tenant not onboarded: $kind is refused with not-found',
    ({ command }) => {
      const error = refusal(() => decide(command, new TenantLog(TENANT), ctxAt(NOW, ADMIN)));
      expect(error.code).toBe('not-found');
    },
  );

  it.each(GUARDED.map((command) => ({ kind: command.kind, command })))(
    'Active tenant: $kind is not refused for the tenant',
    ({ command }) => {
      const log = populated('Active');
      // The command may still be refused for its own reasons, but never because of the tenant.
      try {
        decide(command, log, ctxAt(NOW, ADMIN));
      } catch (error) {
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).code).not.toBe('tenant-inactive');
        expect((error as DomainError).code).not.toBe('not-found');
      }
    },
  );

  it('a resumed tenant accepts key commands again', () => {
    const log = populated('Suspended');
    expect(refusal(() => decide({ kind: 'key.activate', keyId: KEY }, log, ctxAt())).code).toBe('tenant-inactive');
    apply(log, resume, ctxAt(day(-1)));
    expect(decide({ kind: 'key.activate', keyId: KEY }, log, ctxAt())).toEqual([
      { type: 'key.activated.v1', data: { keyId: KEY, reason: 'requested' } },
    ]);
  });

  it('a suspended tenant can still be resumed or offboarded (tenant commands are not guarded)', () => {
    expect(decide(resume, populated('Suspended'), ctxAt()).map((e) => e.type)).toEqual(['tenant.resumed.v1']);
    expect(decide(offboard, populated('Suspended'), ctxAt()).map((e) => e.type)).toEqual(['tenant.offboarded.v1']);
  });

  it('offboarding keeps the keys and principals in the log state', () => {
    const log = populated('Offboarded');
    expect(log.keys.get(KEY)?.state).toBe('PreActive');
    expect(log.principals.get('prn_admin0001')?.revokedAt).toBeNull();
  });
});

describe('evolveTenant', () => {
  it('ignores status events for a tenant that does not exist', () => {
    const envelope = { actor: PROVIDER, correlationId: 'c', at: NOW.toISOString() };
    const events: TenantEvent[] = [
      { type: 'tenant.suspended.v1', data: { tenantId: TENANT, reason: '' }, ...envelope },
      { type: 'tenant.resumed.v1', data: { tenantId: TENANT }, ...envelope },
      { type: 'tenant.offboarded.v1', data: { tenantId: TENANT }, ...envelope },
    ];
    for (const event of events) expect(evolveTenant(undefined, event)).toBeUndefined();
  });
});

describe('the policy a tenant starts with is in its history, not in the code of the day', () => {
  const envelope = { actor: PROVIDER, correlationId: 'c', at: NOW.toISOString() };

  it('onboarding records the whole policy (the default, with the grant mode) in the event', () => {
    const [event] = decideTenant({ kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme', grants: 'open' }, undefined);
    expect(event).toEqual({
      type: 'tenant.onboarded.v1',
      data: { tenantId: TENANT, name: 'Acme', grants: 'open', policy: { ...DEFAULT_TENANT_POLICY, grants: 'open' } },
    });
  });

  it('the fold takes the recorded policy, whatever the default is now', () => {
    const recorded = {
      allowCompromisedDecrypt: true,
      dualControl: { quorum: 3, operations: ['key.schedule-destruction' as const] },
      grants: 'required' as const,
    };
    const state = evolveTenant(undefined, {
      type: 'tenant.onboarded.v1',
      data: { tenantId: TENANT, name: 'Acme', policy: recorded },
      ...envelope,
    });
    expect(state?.policy).toEqual(recorded);
  });

  it('an onboarding event that records none reads as the frozen policy of its time, not as DEFAULT_TENANT_POLICY', () => {
    const state = evolveTenant(undefined, {
      type: 'tenant.onboarded.v1',
      data: { tenantId: TENANT, name: 'Acme', grants: 'required' },
      ...envelope,
    });
    expect(state?.policy).toEqual({ ...POLICY_OF_UNRECORDED_ONBOARDINGS, grants: 'required' });
    expect(
      Object.isFrozen(POLICY_OF_UNRECORDED_ONBOARDINGS) && Object.isFrozen(POLICY_OF_UNRECORDED_ONBOARDINGS.dualControl.operations),
    ).toBe(true);
    // A policy set by code that did not know a field: the field takes its frozen value, not today's default.
    const older = { allowCompromisedDecrypt: true, dualControl: { quorum: null, operations: [] } } as unknown as TenantPolicy;
    const after = evolveTenant(state, { type: 'tenant.policy-set.v1', data: { tenantId: TENANT, policy: older }, ...envelope });
    expect(after?.policy.allowLegacyEncryption).toBe(POLICY_OF_UNRECORDED_ONBOARDINGS.allowLegacyEncryption);
  });
});
