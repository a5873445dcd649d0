import { NOW, applyCommand, day, iso, refusal } from '../testing/spec-helpers';
import { decide, TenantLog, type KeywardCommand, type KeywardEvent } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import type { CreateKey } from './key.commands';
import type { KeyState } from './key.state';

// ---------------------------------------------------------------------------------------------
// Test-only helpers: a fixed injected clock, and decide → stamp → evolveCommit on a TenantLog.
// ---------------------------------------------------------------------------------------------

const TENANT = 'tnt_acme0001';
const KEY = 'key_first0001';
const OTHER = 'key_second001';
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const USER: Actor = { principalId: 'prn_user00001', role: 'key-user' };
const SCHEDULER: Actor = { principalId: 'prn_sched0001', role: 'provider-admin' };

const ctxAt = (now: Date = NOW, actor: Actor = ADMIN): DecisionContext => ({ now, actor, correlationId: `corr-${now.getTime()}` });

function apply(log: TenantLog, command: KeywardCommand, ctx: DecisionContext = ctxAt()): KeywardEvent[] {
  return applyCommand(log, command, ctx);
}

function tenantLog(): TenantLog {
  const log = new TenantLog(TENANT);
  apply(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme' }, ctxAt(day(-100)));
  return log;
}

const createKey = (extra: Partial<CreateKey> = {}): CreateKey => ({
  kind: 'key.create',
  keyId: KEY,
  keyType: 'AES-256-GCM',
  kcv: 'KCV0001',
  ...extra,
});

const key = (log: TenantLog, keyId = KEY): KeyState => {
  const found = log.keys.get(keyId);
  if (found === undefined) throw new Error(`no key ${keyId}`);
  return found;
};

/** A log with one Active key (created and activated at day -50). */
function withActiveKey(extra: Partial<CreateKey> = {}): TenantLog {
  const log = tenantLog();
  apply(log, createKey({ activate: true, ...extra }), ctxAt(day(-50)));
  return log;
}

const labelsOf = (count: number, prefix = 'l'): Record<string, string> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, `v${i}`]));

// ---------------------------------------------------------------------------------------------

describe('key.create', () => {
  it('creates a PreActive key with defaults and records exactly what was decided', () => {
    const log = tenantLog();
    const events = apply(log, createKey());
    expect(events).toEqual([
      {
        type: 'key.created.v1',
        data: {
          keyId: KEY,
          keyType: 'AES-256-GCM',
          description: '',
          labels: {},
          exportable: false,
          version: { version: 1, kcv: 'KCV0001' },
        },
        actor: ADMIN,
        correlationId: `corr-${NOW.getTime()}`,
        at: NOW.toISOString(),
      },
    ]);
    const at = NOW.toISOString();
    expect(key(log)).toEqual<KeyState>({
      keyId: KEY,
      keyType: 'AES-256-GCM',
      state: 'PreActive',
      alias: null,
      description: '',
      labels: {},
      exportable: false,
      exportEnabled: false,
      versions: [{ version: 1, kcv: 'KCV0001', createdAt: at, destroyed: false }],
      latestVersion: 1,
      minDecryptionVersion: 1,
      activationDate: null,
      deactivationDate: null,
      compromiseDate: null,
      compromiseReason: null,
      destroyAfter: null,
      destroyedAt: null,
      createdAt: at,
      createdBy: ADMIN,
      updatedAt: at,
      history: [{ at, from: null, to: 'PreActive', event: 'key.created.v1', actor: ADMIN }],
    });
  });

  it('records alias, description, labels, exportable and key type', () => {
    const log = tenantLog();
    const [created] = apply(
      log,
      createKey({ keyType: 'HMAC-SHA256', alias: 'payments/mac', description: 'MAC key', labels: { env: 'prod' }, exportable: true }),
    );
    expect(created?.data).toEqual({
      keyId: KEY,
      keyType: 'HMAC-SHA256',
      alias: 'payments/mac',
      description: 'MAC key',
      labels: { env: 'prod' },
      exportable: true,
      version: { version: 1, kcv: 'KCV0001' },
    });
    expect(key(log)).toMatchObject({
      keyType: 'HMAC-SHA256',
      alias: 'payments/mac',
      description: 'MAC key',
      labels: { env: 'prod' },
      exportable: true,
    });
    expect(log.aliasOwner('payments/mac')).toBe(KEY);
  });

  it('creates and activates at once when asked (reason "requested")', () => {
    const log = tenantLog();
    const events = apply(log, createKey({ activate: true }));
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['key.created.v1', expect.objectContaining({ keyId: KEY })],
      ['key.activated.v1', { keyId: KEY, reason: 'requested' }],
    ]);
    expect(key(log)).toMatchObject({ state: 'Active', activationDate: NOW.toISOString() });
    expect(key(log).history.map((h) => [h.from, h.to, h.reason])).toEqual([
      [null, 'PreActive', undefined],
      ['PreActive', 'Active', 'requested'],
    ]);
  });

  it('explicitly not activating (activate: false) leaves the key PreActive', () => {
    expect(decide(createKey({ activate: false }), tenantLog(), ctxAt()).map((e) => e.type)).toEqual(['key.created.v1']);
  });

  it.each([
    ['in the past', -2],
    ['exactly now', 0],
  ])('activates at once when the activation date is %s (reason "activation-date"), even if activate is false', (_, offset) => {
    const log = tenantLog();
    const events = apply(log, createKey({ activate: false, activationDate: day(offset) }));
    expect(events.map((e) => e.type)).toEqual(['key.created.v1', 'key.activated.v1']);
    expect(events[0]?.data).toMatchObject({ activationDate: iso(offset) });
    expect(events[1]?.data).toEqual({ keyId: KEY, reason: 'activation-date' });
    // The activation date stays the one that was asked for, not the time of the event.
    expect(key(log)).toMatchObject({ state: 'Active', activationDate: iso(offset) });
  });

  it('does not activate when the activation date is in the future, even if activate is true', () => {
    const log = tenantLog();
    const events = apply(log, createKey({ activate: true, activationDate: day(3) }));
    expect(events.map((e) => e.type)).toEqual(['key.created.v1']);
    expect(key(log)).toMatchObject({ state: 'PreActive', activationDate: iso(3) });
    // The scheduler activates it later.
    apply(log, { kind: 'key.activate', keyId: KEY, reason: 'activation-date' }, ctxAt(day(3), SCHEDULER));
    expect(key(log)).toMatchObject({ state: 'Active', activationDate: iso(3) });
    expect(key(log).history.at(-1)).toEqual({
      at: iso(3),
      from: 'PreActive',
      to: 'Active',
      event: 'key.activated.v1',
      actor: SCHEDULER,
      reason: 'activation-date',
    });
  });

  describe('deactivation date', () => {
    it('records a future deactivation date', () => {
      const log = tenantLog();
      const [created] = apply(log, createKey({ activationDate: day(1), deactivationDate: day(30) }));
      expect(created?.data).toMatchObject({ activationDate: iso(1), deactivationDate: iso(30) });
      expect(key(log)).toMatchObject({ activationDate: iso(1), deactivationDate: iso(30) });
    });

    it.each([
      ['before the activation date', { activationDate: day(10), deactivationDate: day(5) }],
      ['equal to the activation date', { activationDate: day(10), deactivationDate: day(10) }],
      ['in the past', { deactivationDate: day(-1) }],
      ['exactly now', { deactivationDate: NOW }],
      ['in the past with a past activation date', { activationDate: day(-10), deactivationDate: day(-5) }],
    ])('refuses a deactivation date %s as invalid', (_, dates) => {
      expect(refusal(() => decide(createKey(dates), tenantLog(), ctxAt())).code).toBe('invalid');
    });

    it('accepts a deactivation date one millisecond in the future', () => {
      expect(decide(createKey({ deactivationDate: new Date(NOW.getTime() + 1) }), tenantLog(), ctxAt())).toHaveLength(1);
    });
  });

  it('refuses a duplicate keyId with already-exists', () => {
    const log = tenantLog();
    apply(log, createKey());
    const error = refusal(() => decide(createKey({ keyType: 'HMAC-SHA256' }), log, ctxAt()));
    expect(error.code).toBe('already-exists');
    expect(error.details).toEqual({ keyId: KEY });
  });

  it('refuses an unknown key with not-found', () => {
    expect(refusal(() => decide({ kind: 'key.activate', keyId: KEY }, tenantLog(), ctxAt())).code).toBe('not-found');
  });
});

describe('aliases', () => {
  const VALID = ['a', 'A', '0', 'payments/db-key_1.v2', 'x'.repeat(128), 'aliasx', 'team/alias/x'];
  const INVALID = [
    '',
    '-leading-dash',
    '.leading-dot',
    '/leading-slash',
    '_leading',
    'has space',
    'bad*char',
    'ünï',
    'x'.repeat(129),
    'alias/x',
    'alias/',
  ];

  it.each(VALID)('accepts alias %j on create and on set-alias', (alias) => {
    expect(decide(createKey({ alias }), tenantLog(), ctxAt())[0]?.data).toMatchObject({ alias });
    const log = withActiveKey();
    expect(decide({ kind: 'key.set-alias', keyId: KEY, alias }, log, ctxAt())).toEqual([
      { type: 'key.alias-set.v1', data: { keyId: KEY, alias } },
    ]);
  });

  it.each(INVALID)('refuses alias %j as invalid on create and on set-alias', (alias) => {
    expect(refusal(() => decide(createKey({ alias }), tenantLog(), ctxAt())).code).toBe('invalid');
    expect(refusal(() => decide({ kind: 'key.set-alias', keyId: KEY, alias }, withActiveKey(), ctxAt())).code).toBe('invalid');
  });

  it('is unique across the keys of a tenant', () => {
    const log = tenantLog();
    apply(log, createKey({ alias: 'shared' }));
    const onCreate = refusal(() => decide(createKey({ keyId: OTHER, alias: 'shared' }), log, ctxAt()));
    expect(onCreate.code).toBe('already-exists');
    expect(onCreate.details).toEqual({ alias: 'shared' });

    apply(log, createKey({ keyId: OTHER, alias: 'other' }));
    expect(refusal(() => decide({ kind: 'key.set-alias', keyId: OTHER, alias: 'shared' }, log, ctxAt())).code).toBe('already-exists');
    // Aliases are case-sensitive.
    expect(decide({ kind: 'key.set-alias', keyId: OTHER, alias: 'Shared' }, log, ctxAt())).toHaveLength(1);
  });

  it('setting its own alias again is a no-op; a new alias releases the previous one', () => {
    const log = tenantLog();
    apply(log, createKey({ alias: 'old' }));
    expect(decide({ kind: 'key.set-alias', keyId: KEY, alias: 'old' }, log, ctxAt())).toEqual([]);
    const events = apply(log, { kind: 'key.set-alias', keyId: KEY, alias: 'new' });
    expect(events[0]?.data).toEqual({ keyId: KEY, alias: 'new', previous: 'old' });
    expect(log.aliasOwner('new')).toBe(KEY);
    expect(log.aliasOwner('old')).toBeUndefined();
    expect([...log.aliases]).toEqual([['new', KEY]]);
    // Another key may now take the old alias.
    apply(log, createKey({ keyId: OTHER, alias: 'old' }));
    expect(log.aliasOwner('old')).toBe(OTHER);
  });

  it('is released when its key is destroyed, so another key can take it', () => {
    const log = tenantLog();
    apply(log, createKey({ alias: 'reusable' }), ctxAt(day(-20)));
    apply(log, { kind: 'key.schedule-destruction', keyId: KEY, waitingPeriodDays: 1 }, ctxAt(day(-10)));
    expect(refusal(() => decide(createKey({ keyId: OTHER, alias: 'reusable' }), log, ctxAt())).code).toBe('already-exists');
    apply(log, { kind: 'key.destroy', keyId: KEY });
    expect(key(log).alias).toBeNull();
    expect(log.aliasOwner('reusable')).toBeUndefined();
    expect(log.resolveKey('alias/reusable')).toBeUndefined();
    apply(log, createKey({ keyId: OTHER, alias: 'reusable' }));
    expect(log.resolveKey('alias/reusable')?.keyId).toBe(OTHER);
  });
});

describe('labels', () => {
  it.each(['a', 'env', 'env_tier-x1', 'a'.repeat(63), 'x0'])('accepts label name %j', (name) => {
    expect(decide(createKey({ labels: { [name]: 'v' } }), tenantLog(), ctxAt())[0]?.data).toMatchObject({ labels: { [name]: 'v' } });
  });

  it.each(['', 'Env', '1abc', '_x', '-x', '.x', 'a b', 'a/b', 'a.b', 'a'.repeat(64), '__proto__'])(
    'refuses label name %j as invalid',
    (name) => {
      expect(refusal(() => decide(createKey({ labels: { [name]: 'v' } }), tenantLog(), ctxAt())).code).toBe('invalid');
      expect(refusal(() => decide({ kind: 'key.change-labels', keyId: KEY, set: { [name]: 'v' } }, withActiveKey(), ctxAt())).code).toBe(
        'invalid',
      );
    },
  );

  it('accepts values up to 256 characters (including empty) and refuses longer ones', () => {
    expect(decide(createKey({ labels: { a: 'v'.repeat(256), b: '' } }), tenantLog(), ctxAt())).toHaveLength(1);
    expect(refusal(() => decide(createKey({ labels: { a: 'v'.repeat(257) } }), tenantLog(), ctxAt())).code).toBe('invalid');
    expect(
      refusal(() => decide({ kind: 'key.change-labels', keyId: KEY, set: { a: 'v'.repeat(257) } }, withActiveKey(), ctxAt())).code,
    ).toBe('invalid');
  });

  it('allows at most 32 labels on create', () => {
    expect(decide(createKey({ labels: labelsOf(32) }), tenantLog(), ctxAt())).toHaveLength(1);
    expect(refusal(() => decide(createKey({ labels: labelsOf(33) }), tenantLog(), ctxAt())).code).toBe('invalid');
  });

  it('allows at most 32 labels after a change, counting removals and overwrites', () => {
    const log = withActiveKey({ labels: labelsOf(32) });
    expect(refusal(() => decide({ kind: 'key.change-labels', keyId: KEY, set: { extra: 'x' } }, log, ctxAt())).code).toBe('invalid');
    expect(decide({ kind: 'key.change-labels', keyId: KEY, set: { extra: 'x' }, remove: ['l0'] }, log, ctxAt())).toEqual([
      { type: 'key.labels-changed.v1', data: { keyId: KEY, set: { extra: 'x' }, removed: ['l0'] } },
    ]);
    expect(decide({ kind: 'key.change-labels', keyId: KEY, set: { l1: 'changed' } }, log, ctxAt())).toEqual([
      { type: 'key.labels-changed.v1', data: { keyId: KEY, set: { l1: 'changed' }, removed: [] } },
    ]);
  });

  it('set adds and overwrites, remove deletes; unchanged and absent names are left out of the event', () => {
    const log = withActiveKey({ labels: { env: 'prod', team: 'a', tier: '1' } });
    const events = apply(log, {
      kind: 'key.change-labels',
      keyId: KEY,
      set: { env: 'prod', team: 'b', owner: 'alice' },
      remove: ['tier', 'absent'],
    });
    expect(events.map((e) => e.data)).toEqual([{ keyId: KEY, set: { team: 'b', owner: 'alice' }, removed: ['tier'] }]);
    expect(key(log).labels).toEqual({ env: 'prod', team: 'b', owner: 'alice' });
    expect(key(log).updatedAt).toBe(NOW.toISOString());
  });

  it('a name both set and removed in one change is set (set wins)', () => {
    const log = withActiveKey({ labels: { env: 'prod' } });
    const events = apply(log, { kind: 'key.change-labels', keyId: KEY, set: { env: 'dev' }, remove: ['env'] });
    expect(events.map((e) => e.data)).toEqual([{ keyId: KEY, set: { env: 'dev' }, removed: [] }]);
    expect(key(log).labels).toEqual({ env: 'dev' });
  });

  it('removing every label leaves an empty record', () => {
    const log = withActiveKey({ labels: { env: 'prod', team: 'a' } });
    apply(log, { kind: 'key.change-labels', keyId: KEY, remove: ['env', 'team'] });
    expect(key(log).labels).toEqual({});
  });

  it('does not share the label record of the command with the event', () => {
    const labels = { env: 'prod' };
    const [created] = decide(createKey({ labels }), tenantLog(), ctxAt());
    labels.env = 'mutated';
    expect(created?.data).toMatchObject({ labels: { env: 'prod' } });
  });
});

describe('description', () => {
  it('accepts up to 1024 characters and refuses more, on create and on set-description', () => {
    expect(decide(createKey({ description: 'd'.repeat(1024) }), tenantLog(), ctxAt())).toHaveLength(1);
    expect(refusal(() => decide(createKey({ description: 'd'.repeat(1025) }), tenantLog(), ctxAt())).code).toBe('invalid');
    const log = withActiveKey({ description: 'before' });
    expect(decide({ kind: 'key.set-description', keyId: KEY, description: 'd'.repeat(1024) }, log, ctxAt())).toHaveLength(1);
    expect(refusal(() => decide({ kind: 'key.set-description', keyId: KEY, description: 'd'.repeat(1025) }, log, ctxAt())).code).toBe(
      'invalid',
    );
  });

  it('can be cleared; setting the same text is a no-op', () => {
    const log = withActiveKey({ description: 'before' });
    expect(decide({ kind: 'key.set-description', keyId: KEY, description: 'before' }, log, ctxAt())).toEqual([]);
    apply(log, { kind: 'key.set-description', keyId: KEY, description: '' });
    expect(key(log).description).toBe('');
  });
});

describe('rotation', () => {
  it('numbers versions 1..n, records each kcv and creation time, and advances latestVersion', () => {
    const log = withActiveKey();
    for (let n = 2; n <= 5; n += 1) {
      const events = apply(log, { kind: 'key.rotate', keyId: KEY, kcv: `KCV000${n}` }, ctxAt(day(-50 + n)));
      expect(events.map((e) => [e.type, e.data])).toEqual([['key.rotated.v1', { keyId: KEY, version: { version: n, kcv: `KCV000${n}` } }]]);
    }
    const state = key(log);
    expect(state.versions).toEqual([
      { version: 1, kcv: 'KCV0001', createdAt: iso(-50), destroyed: false },
      { version: 2, kcv: 'KCV0002', createdAt: iso(-48), destroyed: false },
      { version: 3, kcv: 'KCV0003', createdAt: iso(-47), destroyed: false },
      { version: 4, kcv: 'KCV0004', createdAt: iso(-46), destroyed: false },
      { version: 5, kcv: 'KCV0005', createdAt: iso(-45), destroyed: false },
    ]);
    expect(state.latestVersion).toBe(5);
    expect(state.minDecryptionVersion).toBe(1);
    expect(state.state).toBe('Active');
    // Rotation is not a lifecycle transition.
    expect(state.history.map((h) => h.event)).toEqual(['key.created.v1', 'key.activated.v1']);
  });

  it('destruction destroys every version', () => {
    const log = withActiveKey();
    apply(log, { kind: 'key.rotate', keyId: KEY, kcv: 'KCV0002' }, ctxAt(day(-40)));
    apply(log, { kind: 'key.deactivate', keyId: KEY }, ctxAt(day(-30)));
    apply(log, { kind: 'key.schedule-destruction', keyId: KEY, waitingPeriodDays: 7 }, ctxAt(day(-20)));
    const events = apply(log, { kind: 'key.destroy', keyId: KEY });
    expect(events.map((e) => e.data)).toEqual([{ keyId: KEY, versions: [1, 2] }]);
    expect(key(log).versions.map((v) => [v.version, v.destroyed])).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(key(log).destroyedAt).toBe(NOW.toISOString());
  });
});

describe('minimum decryption version', () => {
  function rotatedTo5(): TenantLog {
    const log = withActiveKey();
    for (let n = 2; n <= 5; n += 1) apply(log, { kind: 'key.rotate', keyId: KEY, kcv: `KCV000${n}` }, ctxAt(day(-40 + n)));
    return log;
  }

  it.each([0, -1, 6, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %p as invalid', (version) => {
    expect(refusal(() => decide({ kind: 'key.set-min-decryption-version', keyId: KEY, version }, rotatedTo5(), ctxAt())).code).toBe(
      'invalid',
    );
  });

  it.each([2, 3, 4, 5])('accepts %p (within 1..latest)', (version) => {
    const log = rotatedTo5();
    expect(apply(log, { kind: 'key.set-min-decryption-version', keyId: KEY, version }).map((e) => e.data)).toEqual([
      { keyId: KEY, version },
    ]);
    expect(key(log).minDecryptionVersion).toBe(version);
  });

  it('can be lowered again, down to 1; setting the current value is a no-op', () => {
    const log = rotatedTo5();
    apply(log, { kind: 'key.set-min-decryption-version', keyId: KEY, version: 4 });
    expect(decide({ kind: 'key.set-min-decryption-version', keyId: KEY, version: 4 }, log, ctxAt())).toEqual([]);
    apply(log, { kind: 'key.set-min-decryption-version', keyId: KEY, version: 1 });
    expect(key(log).minDecryptionVersion).toBe(1);
  });
});

describe('waiting period before destruction', () => {
  function deactivated(): TenantLog {
    const log = withActiveKey();
    apply(log, { kind: 'key.deactivate', keyId: KEY }, ctxAt(day(-40)));
    return log;
  }

  it('defaults to 7 days: destroyAfter = now + 7 days', () => {
    const log = deactivated();
    expect(apply(log, { kind: 'key.schedule-destruction', keyId: KEY }).map((e) => e.data)).toEqual([
      { keyId: KEY, waitingPeriodDays: 7, destroyAfter: iso(7) },
    ]);
    expect(key(log).destroyAfter).toBe(iso(7));
    expect(key(log).state).toBe('Deactivated');
  });

  it.each([1, 2, 30, 89, 90])('accepts %p days: destroyAfter = now + days', (waitingPeriodDays) => {
    expect(decide({ kind: 'key.schedule-destruction', keyId: KEY, waitingPeriodDays }, deactivated(), ctxAt())).toEqual([
      { type: 'key.destruction-scheduled.v1', data: { keyId: KEY, waitingPeriodDays, destroyAfter: iso(waitingPeriodDays) } },
    ]);
  });

  it.each([0, -1, 91, 365, 1.5, 7.000001, Number.NaN, Number.POSITIVE_INFINITY])('refuses %p days as invalid', (waitingPeriodDays) => {
    expect(refusal(() => decide({ kind: 'key.schedule-destruction', keyId: KEY, waitingPeriodDays }, deactivated(), ctxAt())).code).toBe(
      'invalid',
    );
  });

  it('cancelling clears destroyAfter and the key stays in its state', () => {
    const log = deactivated();
    apply(log, { kind: 'key.schedule-destruction', keyId: KEY }, ctxAt(day(-1)));
    expect(apply(log, { kind: 'key.cancel-destruction', keyId: KEY }).map((e) => [e.type, e.data])).toEqual([
      ['key.destruction-cancelled.v1', { keyId: KEY }],
    ]);
    expect(key(log)).toMatchObject({ state: 'Deactivated', destroyAfter: null, destroyedAt: null });
    expect(refusal(() => decide({ kind: 'key.destroy', keyId: KEY }, log, ctxAt(day(100)))).code).toBe('illegal-transition');
  });
});

describe('compromise', () => {
  it.each(['', '   ', '\n\t', 'r'.repeat(513)])('refuses reason %j as invalid', (reason) => {
    expect(refusal(() => decide({ kind: 'key.compromise', keyId: KEY, reason }, withActiveKey(), ctxAt())).code).toBe('invalid');
  });

  it('accepts a 512-character reason and trims surrounding spaces', () => {
    expect(decide({ kind: 'key.compromise', keyId: KEY, reason: 'r'.repeat(512) }, withActiveKey(), ctxAt())[0]?.data).toMatchObject({
      reason: 'r'.repeat(512),
    });
    const log = withActiveKey();
    const events = apply(log, { kind: 'key.compromise', keyId: KEY, reason: '  HSM dump found  ' });
    expect(events.map((e) => e.data)).toEqual([{ keyId: KEY, reason: 'HSM dump found', compromiseDate: NOW.toISOString() }]);
    expect(key(log)).toMatchObject({ state: 'Compromised', compromiseReason: 'HSM dump found', compromiseDate: NOW.toISOString() });
  });

  it('records a past compromise date as given', () => {
    const log = withActiveKey();
    apply(log, { kind: 'key.compromise', keyId: KEY, reason: 'leak', compromiseDate: day(-3) });
    expect(key(log)).toMatchObject({ compromiseDate: iso(-3), updatedAt: NOW.toISOString() });
    expect(key(log).history.at(-1)).toEqual({
      at: NOW.toISOString(),
      from: 'Active',
      to: 'Compromised',
      event: 'key.compromised.v1',
      actor: ADMIN,
      reason: 'leak',
    });
  });

  it('accepts a compromise date of exactly now and refuses one a millisecond in the future', () => {
    expect(decide({ kind: 'key.compromise', keyId: KEY, reason: 'leak', compromiseDate: NOW }, withActiveKey(), ctxAt())).toHaveLength(1);
    const error = refusal(() =>
      decide({ kind: 'key.compromise', keyId: KEY, reason: 'leak', compromiseDate: new Date(NOW.getTime() + 1) }, withActiveKey(), ctxAt()),
    );
    expect(error.code).toBe('invalid');
  });

  it('checks the state before the reason: a Compromised key is refused as illegal even with an empty reason', () => {
    const log = withActiveKey();
    apply(log, { kind: 'key.compromise', keyId: KEY, reason: 'leak' });
    expect(refusal(() => decide({ kind: 'key.compromise', keyId: KEY, reason: '' }, log, ctxAt())).code).toBe('illegal-transition');
  });
});

describe('history', () => {
  it('records every lifecycle transition with time, actor, event and reason', () => {
    const log = tenantLog();
    apply(log, createKey({ alias: 'hist' }), ctxAt(day(-10), ADMIN));
    apply(log, { kind: 'key.activate', keyId: KEY }, ctxAt(day(-9), USER));
    apply(log, { kind: 'key.rotate', keyId: KEY, kcv: 'KCV0002' }, ctxAt(day(-8), USER));
    apply(log, { kind: 'key.set-description', keyId: KEY, description: 'x' }, ctxAt(day(-8), USER));
    apply(log, { kind: 'key.deactivate', keyId: KEY, reason: 'deactivation-date' }, ctxAt(day(-7), SCHEDULER));
    apply(log, { kind: 'key.compromise', keyId: KEY, reason: 'leaked', compromiseDate: day(-9) }, ctxAt(day(-6), ADMIN));
    apply(log, { kind: 'key.schedule-destruction', keyId: KEY, waitingPeriodDays: 1 }, ctxAt(day(-5), ADMIN));
    apply(log, { kind: 'key.destroy', keyId: KEY }, ctxAt(day(-4), SCHEDULER));

    expect(key(log).history).toEqual([
      { at: iso(-10), from: null, to: 'PreActive', event: 'key.created.v1', actor: ADMIN },
      { at: iso(-9), from: 'PreActive', to: 'Active', event: 'key.activated.v1', actor: USER, reason: 'requested' },
      { at: iso(-7), from: 'Active', to: 'Deactivated', event: 'key.deactivated.v1', actor: SCHEDULER, reason: 'deactivation-date' },
      { at: iso(-6), from: 'Deactivated', to: 'Compromised', event: 'key.compromised.v1', actor: ADMIN, reason: 'leaked' },
      { at: iso(-4), from: 'Compromised', to: 'DestroyedCompromised', event: 'key.destroyed.v1', actor: SCHEDULER },
    ]);
    expect(key(log)).toMatchObject({
      state: 'DestroyedCompromised',
      activationDate: iso(-9),
      deactivationDate: iso(-7),
      compromiseDate: iso(-9),
      compromiseReason: 'leaked',
      destroyAfter: null,
      destroyedAt: iso(-4),
      createdAt: iso(-10),
      createdBy: ADMIN,
      updatedAt: iso(-4),
      alias: null,
    });
  });

  it('a Destroyed key that is then found compromised becomes DestroyedCompromised', () => {
    const log = withActiveKey();
    apply(log, { kind: 'key.deactivate', keyId: KEY }, ctxAt(day(-40)));
    apply(log, { kind: 'key.schedule-destruction', keyId: KEY, waitingPeriodDays: 1 }, ctxAt(day(-30)));
    apply(log, { kind: 'key.destroy', keyId: KEY }, ctxAt(day(-20)));
    apply(log, { kind: 'key.compromise', keyId: KEY, reason: 'backup tape lost', compromiseDate: day(-35) });
    expect(
      key(log)
        .history.slice(-2)
        .map((h) => [h.from, h.to, h.reason]),
    ).toEqual([
      ['Deactivated', 'Destroyed', undefined],
      ['Destroyed', 'DestroyedCompromised', 'backup tape lost'],
    ]);
    expect(key(log)).toMatchObject({ state: 'DestroyedCompromised', compromiseDate: iso(-35), destroyedAt: iso(-20) });
  });
});

describe('TenantLog.resolveKey', () => {
  it('resolves by id and by alias/<name>', () => {
    const log = tenantLog();
    apply(log, createKey({ alias: 'orders' }));
    apply(log, createKey({ keyId: OTHER }));
    expect(log.resolveKey(KEY)?.keyId).toBe(KEY);
    expect(log.resolveKey(OTHER)?.keyId).toBe(OTHER);
    expect(log.resolveKey('alias/orders')?.keyId).toBe(KEY);
    expect(log.resolveKey('alias/orders')).toBe(log.keys.get(KEY));
  });

  it('returns undefined for unknown ids and aliases, and does not resolve a bare alias name', () => {
    const log = tenantLog();
    apply(log, createKey({ alias: 'orders' }));
    expect(log.resolveKey('key_unknown01')).toBeUndefined();
    expect(log.resolveKey('alias/unknown')).toBeUndefined();
    expect(log.resolveKey('orders')).toBeUndefined();
    expect(log.resolveKey('alias/')).toBeUndefined();
    expect(log.resolveKey('')).toBeUndefined();
  });

  it('follows alias changes', () => {
    const log = tenantLog();
    apply(log, createKey({ alias: 'before' }));
    apply(log, { kind: 'key.set-alias', keyId: KEY, alias: 'after' });
    expect(log.resolveKey('alias/before')).toBeUndefined();
    expect(log.resolveKey('alias/after')?.keyId).toBe(KEY);
  });

  it('still resolves a destroyed key by id (but no longer by its alias)', () => {
    const log = tenantLog();
    apply(log, createKey({ alias: 'gone' }), ctxAt(day(-20)));
    apply(log, { kind: 'key.schedule-destruction', keyId: KEY, waitingPeriodDays: 1 }, ctxAt(day(-10)));
    apply(log, { kind: 'key.destroy', keyId: KEY });
    expect(log.resolveKey(KEY)?.state).toBe('Destroyed');
    expect(log.resolveKey('alias/gone')).toBeUndefined();
  });
});
