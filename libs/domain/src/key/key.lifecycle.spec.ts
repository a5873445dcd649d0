import { NOW, applyCommand, day, iso, refusal } from '../testing/spec-helpers';
import { decide, TenantLog, type KeywardCommand, type KeywardEvent } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import { DomainError, type DomainErrorCode } from '../shared/domain-error';
import type { ExistingKeyCommand } from './key.commands';
import type { KeyEventType } from './key.events';
import type { KeyState, KeyStateChange } from './key.state';
import type { KeyLifecycleState } from './key.types';

// ---------------------------------------------------------------------------------------------
// Helpers (test-only). Every decision runs against an injected clock; nothing reads Date.now().
// ---------------------------------------------------------------------------------------------

/** NOW shifted by a (possibly fractional or negative) number of days. */

const TENANT = 'tnt_acme0001';
const KEY = 'key_lifecycle01';
const SETUP_ACTOR: Actor = { principalId: 'prn_setup0001', role: 'tenant-admin' };
const ACTOR: Actor = { principalId: 'prn_alice0001', role: 'tenant-admin' };

const ctxAt = (now: Date, actor: Actor = SETUP_ACTOR): DecisionContext => ({ now, actor, correlationId: `corr-${now.toISOString()}` });

/** Decides, stamps and folds one command as one commit; returns the stored events. */
function apply(log: TenantLog, command: KeywardCommand, ctx: DecisionContext): KeywardEvent[] {
  return applyCommand(log, command, ctx);
}

// ---------------------------------------------------------------------------------------------
// Fixtures: one key per lifecycle state (and scheduling variant), built by folding real events.
// ---------------------------------------------------------------------------------------------

type Step = readonly [offsetDays: number, command: KeywardCommand];

const create = (extra: Partial<Extract<KeywardCommand, { kind: 'key.create' }>> = {}): KeywardCommand => ({
  kind: 'key.create',
  keyId: KEY,
  keyType: 'AES-256-GCM',
  alias: 'primary',
  description: 'original',
  labels: { env: 'prod' },
  kcv: 'KCV0001',
  ...extra,
});
const activate: KeywardCommand = { kind: 'key.activate', keyId: KEY };
const rotate: KeywardCommand = { kind: 'key.rotate', keyId: KEY, kcv: 'KCV0002' };
const deactivate: KeywardCommand = { kind: 'key.deactivate', keyId: KEY };
const compromise: KeywardCommand = { kind: 'key.compromise', keyId: KEY, reason: 'suspected leak' };
const schedule: KeywardCommand = { kind: 'key.schedule-destruction', keyId: KEY };
const destroy: KeywardCommand = { kind: 'key.destroy', keyId: KEY };

// "pending": scheduled 1 day ago with the default 7 days, so destroyAfter = NOW + 6d.
// "due": scheduled 10 days ago with the default 7 days, so destroyAfter = NOW - 3d.
const PRE_ACTIVE: Step[] = [[-30, create()]];
const ACTIVE: Step[] = [
  [-30, create()],
  [-29, activate],
  [-20, rotate],
];
const DEACTIVATED: Step[] = [...ACTIVE, [-15, deactivate]];
const COMPROMISED: Step[] = [...ACTIVE, [-15, compromise]];
const DESTROYED: Step[] = [...DEACTIVATED, [-10, schedule], [-2, destroy]];

const FIXTURES = {
  PreActive: PRE_ACTIVE,
  'PreActive (deactivation date passed)': [[-30, create({ deactivationDate: day(-1) })]],
  'PreActive (destruction pending)': [...PRE_ACTIVE, [-1, schedule]],
  'PreActive (destruction due)': [...PRE_ACTIVE, [-10, schedule]],
  Active: ACTIVE,
  Deactivated: DEACTIVATED,
  'Deactivated (destruction pending)': [...DEACTIVATED, [-1, schedule]],
  'Deactivated (destruction due)': [...DEACTIVATED, [-10, schedule]],
  Compromised: COMPROMISED,
  'Compromised (destruction pending)': [...COMPROMISED, [-1, schedule]],
  'Compromised (destruction due)': [...COMPROMISED, [-10, schedule]],
  Destroyed: DESTROYED,
  'DestroyedCompromised (destroyed while compromised)': [...COMPROMISED, [-10, schedule], [-2, destroy]],
  'DestroyedCompromised (compromised after destruction)': [...DESTROYED, [-1, compromise]],
} satisfies Record<string, Step[]>;
type FixtureName = keyof typeof FIXTURES;
const FIXTURE_NAMES = Object.keys(FIXTURES) as FixtureName[];

function build(name: FixtureName): TenantLog {
  const log = new TenantLog(TENANT);
  apply(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme' }, ctxAt(day(-40)));
  for (const [offset, command] of FIXTURES[name]) apply(log, command, ctxAt(day(offset)));
  return log;
}

/** What each fixture must look like before any command of the matrix runs (written out, not derived). */
const FIXTURE_FACTS: Record<
  FixtureName,
  { state: KeyLifecycleState; destroyAfter: string | null; versions: number[]; alias: string | null }
> = {
  PreActive: { state: 'PreActive', destroyAfter: null, versions: [1], alias: 'primary' },
  'PreActive (deactivation date passed)': { state: 'PreActive', destroyAfter: null, versions: [1], alias: 'primary' },
  'PreActive (destruction pending)': { state: 'PreActive', destroyAfter: iso(6), versions: [1], alias: 'primary' },
  'PreActive (destruction due)': { state: 'PreActive', destroyAfter: iso(-3), versions: [1], alias: 'primary' },
  Active: { state: 'Active', destroyAfter: null, versions: [1, 2], alias: 'primary' },
  Deactivated: { state: 'Deactivated', destroyAfter: null, versions: [1, 2], alias: 'primary' },
  'Deactivated (destruction pending)': { state: 'Deactivated', destroyAfter: iso(6), versions: [1, 2], alias: 'primary' },
  'Deactivated (destruction due)': { state: 'Deactivated', destroyAfter: iso(-3), versions: [1, 2], alias: 'primary' },
  Compromised: { state: 'Compromised', destroyAfter: null, versions: [1, 2], alias: 'primary' },
  'Compromised (destruction pending)': { state: 'Compromised', destroyAfter: iso(6), versions: [1, 2], alias: 'primary' },
  'Compromised (destruction due)': { state: 'Compromised', destroyAfter: iso(-3), versions: [1, 2], alias: 'primary' },
  Destroyed: { state: 'Destroyed', destroyAfter: null, versions: [1, 2], alias: null },
  'DestroyedCompromised (destroyed while compromised)': {
    state: 'DestroyedCompromised',
    destroyAfter: null,
    versions: [1, 2],
    alias: null,
  },
  'DestroyedCompromised (compromised after destruction)': {
    state: 'DestroyedCompromised',
    destroyAfter: null,
    versions: [1, 2],
    alias: null,
  },
};

// ---------------------------------------------------------------------------------------------
// The commands of the matrix, in column order, and what an accepted one must emit.
// ---------------------------------------------------------------------------------------------

// key.enable-export is covered across every state in key.use.spec.ts (it needs exportable keys); the
// commands of appliance identities (owner, KMIP destruction, client attributes) in key.ownership.spec.ts.
type Kind = Exclude<
  ExistingKeyCommand['kind'],
  'key.enable-export' | 'key.assign-owner' | 'key.request-destruction' | 'key.change-attributes'
>;
const COLUMNS = [
  'key.activate',
  'key.deactivate',
  'key.compromise',
  'key.rotate',
  'key.schedule-destruction',
  'key.cancel-destruction',
  'key.destroy',
  'key.set-alias',
  'key.change-labels',
  'key.set-description',
  'key.set-min-decryption-version',
] as const satisfies readonly Kind[];

// Exhaustiveness: every ExistingKeyCommand kind is a column.
const _allKindsCovered: Exclude<Kind, (typeof COLUMNS)[number]> extends never ? true : false = true;

const COMMANDS: { [K in Kind]: Extract<ExistingKeyCommand, { kind: K }> } = {
  'key.activate': { kind: 'key.activate', keyId: KEY },
  'key.deactivate': { kind: 'key.deactivate', keyId: KEY },
  'key.compromise': { kind: 'key.compromise', keyId: KEY, reason: 'key material leaked' },
  'key.rotate': { kind: 'key.rotate', keyId: KEY, kcv: 'KCVNEXT' },
  'key.schedule-destruction': { kind: 'key.schedule-destruction', keyId: KEY, waitingPeriodDays: 10 },
  'key.cancel-destruction': { kind: 'key.cancel-destruction', keyId: KEY },
  'key.destroy': { kind: 'key.destroy', keyId: KEY },
  'key.set-alias': { kind: 'key.set-alias', keyId: KEY, alias: 'renamed' },
  'key.change-labels': { kind: 'key.change-labels', keyId: KEY, set: { team: 'crypto' }, remove: ['env'] },
  'key.set-description': { kind: 'key.set-description', keyId: KEY, description: 'changed' },
  'key.set-min-decryption-version': { kind: 'key.set-min-decryption-version', keyId: KEY, version: 2 },
};

/**
 * The command sent to a key: the fixed one, except that the minimum decryption version is raised to
 * the key's latest version (a real change for keys with 2 versions, a no-op for keys with only 1).
 */
const commandFor = (kind: Kind, before: KeyState): ExistingKeyCommand =>
  kind === 'key.set-min-decryption-version' ? { ...COMMANDS[kind], version: before.latestVersion } : COMMANDS[kind];

const EVENT_TYPE: Record<Kind, KeyEventType> = {
  'key.activate': 'key.activated.v1',
  'key.deactivate': 'key.deactivated.v1',
  'key.compromise': 'key.compromised.v1',
  'key.rotate': 'key.rotated.v1',
  'key.schedule-destruction': 'key.destruction-scheduled.v1',
  'key.cancel-destruction': 'key.destruction-cancelled.v1',
  'key.destroy': 'key.destroyed.v1',
  'key.set-alias': 'key.alias-set.v1',
  'key.change-labels': 'key.labels-changed.v1',
  'key.set-description': 'key.description-set.v1',
  'key.set-min-decryption-version': 'key.min-decryption-version-set.v1',
};

/** The exact data an accepted command must carry, given the key it was decided against. */
const EVENT_DATA: Record<Kind, (before: KeyState) => unknown> = {
  'key.activate': () => ({ keyId: KEY, reason: 'requested' }),
  'key.deactivate': () => ({ keyId: KEY, reason: 'requested' }),
  'key.compromise': () => ({ keyId: KEY, reason: 'key material leaked', compromiseDate: NOW.toISOString() }),
  'key.rotate': (before) => ({ keyId: KEY, version: { version: before.latestVersion + 1, kcv: 'KCVNEXT' } }),
  'key.schedule-destruction': () => ({ keyId: KEY, waitingPeriodDays: 10, destroyAfter: iso(10) }),
  'key.cancel-destruction': () => ({ keyId: KEY }),
  'key.destroy': (before) => ({ keyId: KEY, versions: before.versions.map((v) => v.version) }),
  'key.set-alias': () => ({ keyId: KEY, alias: 'renamed', previous: 'primary' }),
  'key.change-labels': () => ({ keyId: KEY, set: { team: 'crypto' }, removed: ['env'] }),
  'key.set-description': () => ({ keyId: KEY, description: 'changed' }),
  'key.set-min-decryption-version': () => ({ keyId: KEY, version: 2 }),
};

/** Reason recorded in the history for lifecycle transitions (undefined: none). */
const TRANSITION_REASON: Partial<Record<Kind, string>> = {
  'key.activate': 'requested',
  'key.deactivate': 'requested',
  'key.compromise': 'key material leaked',
};

/** The whole key after the accepted command: `before` plus exactly these changes. */
function expectedAfter(kind: Kind, before: KeyState, to: KeyLifecycleState): KeyState {
  const at = NOW.toISOString();
  const base: KeyState = { ...before, state: to, updatedAt: at };
  const history = (): KeyStateChange[] => {
    const reason = TRANSITION_REASON[kind];
    return [...before.history, { at, from: before.state, to, event: EVENT_TYPE[kind], actor: ACTOR, ...(reason ? { reason } : {}) }];
  };
  switch (kind) {
    case 'key.activate':
      return { ...base, history: history(), activationDate: before.activationDate ?? at };
    case 'key.deactivate':
      return { ...base, history: history(), deactivationDate: at };
    case 'key.compromise':
      return { ...base, history: history(), compromiseDate: at, compromiseReason: 'key material leaked' };
    case 'key.rotate':
      return {
        ...base,
        versions: [...before.versions, { version: before.latestVersion + 1, kcv: 'KCVNEXT', createdAt: at, destroyed: false }],
        latestVersion: before.latestVersion + 1,
      };
    case 'key.schedule-destruction':
      return { ...base, destroyAfter: iso(10) };
    case 'key.cancel-destruction':
      return { ...base, destroyAfter: null };
    case 'key.destroy':
      return {
        ...base,
        history: history(),
        versions: before.versions.map((v) => ({ ...v, destroyed: true })),
        alias: null,
        destroyAfter: null,
        destroyedAt: at,
      };
    case 'key.set-alias':
      return { ...base, alias: 'renamed' };
    case 'key.change-labels':
      return { ...base, labels: { team: 'crypto' } };
    case 'key.set-description':
      return { ...base, description: 'changed' };
    case 'key.set-min-decryption-version':
      return { ...base, minDecryptionVersion: 2 };
  }
}

// ---------------------------------------------------------------------------------------------
// The expected matrix, written out by hand from the lifecycle rules (not computed from the code).
//   ok(S)   accepted: exactly one event of the command's type, key ends in lifecycle state S
//   NOOP    accepted, but nothing changes: no events
//   NO      refused with DomainError code 'illegal-transition'
// ---------------------------------------------------------------------------------------------

type Outcome = { readonly to: KeyLifecycleState } | { readonly refused: DomainErrorCode } | 'no-op';
const ok = (to: KeyLifecycleState): Outcome => ({ to });
const NO: Outcome = { refused: 'illegal-transition' };
const NOOP: Outcome = 'no-op';
type Row = readonly [Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome];

const P = 'PreActive',
  A = 'Active',
  D = 'Deactivated',
  C = 'Compromised',
  X = 'Destroyed',
  XC = 'DestroyedCompromised';

/* prettier-ignore */
const MATRIX: Record<FixtureName, Row> = {
  //                                                       activate deactivate compromise rotate schedule cancel destroy alias  labels descr  minDecrypt
  'PreActive':                                            [ok(A),   ok(D),     ok(C),     NO,    ok(P),   NO,    NO,     ok(P), ok(P), ok(P), NOOP],
  'PreActive (deactivation date passed)':                 [NO,      ok(D),     ok(C),     NO,    ok(P),   NO,    NO,     ok(P), ok(P), ok(P), NOOP],
  'PreActive (destruction pending)':                      [NO,      ok(D),     ok(C),     NO,    NO,      ok(P), NO,     ok(P), ok(P), ok(P), NOOP],
  'PreActive (destruction due)':                          [NO,      ok(D),     ok(C),     NO,    NO,      ok(P), ok(X),  ok(P), ok(P), ok(P), NOOP],
  'Active':                                               [NO,      ok(D),     ok(C),     ok(A), NO,      NO,    NO,     ok(A), ok(A), ok(A), ok(A)],
  'Deactivated':                                          [NO,      NO,        ok(C),     NO,    ok(D),   NO,    NO,     ok(D), ok(D), ok(D), ok(D)],
  'Deactivated (destruction pending)':                    [NO,      NO,        ok(C),     NO,    NO,      ok(D), NO,     ok(D), ok(D), ok(D), ok(D)],
  'Deactivated (destruction due)':                        [NO,      NO,        ok(C),     NO,    NO,      ok(D), ok(X),  ok(D), ok(D), ok(D), ok(D)],
  'Compromised':                                          [NO,      NO,        NO,        NO,    ok(C),   NO,    NO,     ok(C), ok(C), ok(C), ok(C)],
  'Compromised (destruction pending)':                    [NO,      NO,        NO,        NO,    NO,      ok(C), NO,     ok(C), ok(C), ok(C), ok(C)],
  'Compromised (destruction due)':                        [NO,      NO,        NO,        NO,    NO,      ok(C), ok(XC), ok(C), ok(C), ok(C), ok(C)],
  'Destroyed':                                            [NO,      NO,        ok(XC),    NO,    NO,      NO,    NO,     NO,    NO,    NO,    NO],
  'DestroyedCompromised (destroyed while compromised)':   [NO,      NO,        NO,        NO,    NO,      NO,    NO,     NO,    NO,    NO,    NO],
  'DestroyedCompromised (compromised after destruction)': [NO,      NO,        NO,        NO,    NO,      NO,    NO,     NO,    NO,    NO,    NO],
};

const CASES = FIXTURE_NAMES.flatMap((fixture) =>
  COLUMNS.map((kind, column) => ({ fixture, kind, outcome: MATRIX[fixture][column] as Outcome })),
);

describe('key lifecycle fixtures', () => {
  it.each(FIXTURE_NAMES)('builds %s by folding real events', (name) => {
    const log = build(name);
    const key = log.keys.get(KEY)!;
    const facts = FIXTURE_FACTS[name];
    expect(log.tenant?.status).toBe('Active');
    expect(log.seq).toBe(FIXTURES[name].length + 1);
    expect(key.state).toBe(facts.state);
    expect(key.destroyAfter).toBe(facts.destroyAfter);
    expect(key.versions.map((v) => v.version)).toEqual(facts.versions);
    expect(key.alias).toBe(facts.alias);
    expect(log.aliasOwner('primary')).toBe(facts.alias === null ? undefined : KEY);
  });

  it('covers every lifecycle state', () => {
    expect(new Set(FIXTURE_NAMES.map((name) => FIXTURE_FACTS[name].state))).toEqual(
      new Set(['PreActive', 'Active', 'Deactivated', 'Compromised', 'Destroyed', 'DestroyedCompromised']),
    );
    expect(CASES).toHaveLength(14 * 11);
  });
});

describe('key lifecycle matrix: every state x every existing-key command', () => {
  it.each(CASES)('$fixture / $kind', ({ fixture, kind, outcome }) => {
    const log = build(fixture);
    const before = structuredClone(log.keys.get(KEY)!);
    const ctx = ctxAt(NOW, ACTOR);
    const command = commandFor(kind, before);

    if (outcome !== 'no-op' && 'refused' in outcome) {
      const error = refusal(() => decide(command, log, ctx));
      expect(error.code).toBe(outcome.refused);
      expect(error.details).toMatchObject({ keyId: KEY });
      expect(log.keys.get(KEY)).toEqual(before);
      return;
    }

    const bodies = decide(command, log, ctx);
    if (outcome === 'no-op') {
      expect(bodies).toEqual([]);
      return;
    }

    expect(bodies).toEqual([{ type: EVENT_TYPE[kind], data: EVENT_DATA[kind](before) }]);
    expect(log.keys.get(KEY)).toEqual(before); // deciding changes nothing
    apply(log, command, ctx);
    const after = log.keys.get(KEY)!;
    expect(after.state).toBe(outcome.to);
    expect(after).toEqual(expectedAfter(kind, before, outcome.to));
    expect(log.aliasOwner('primary')).toBe(after.alias === 'primary' ? KEY : undefined);
    expect(log.aliasOwner('renamed')).toBe(after.alias === 'renamed' ? KEY : undefined);
  });
});

describe('key lifecycle edge cases', () => {
  it('refuses an existing-key command for a key that does not exist', () => {
    const log = build('Active');
    for (const kind of COLUMNS) {
      const error = refusal(() => decide({ ...COMMANDS[kind], keyId: 'key_missing001' }, log, ctxAt(NOW)));
      expect(error.code).toBe('not-found');
      expect(error.details).toEqual({ keyId: 'key_missing001' });
    }
  });

  it('activates a PreActive key up to the instant before its deactivation date, not at it', () => {
    const log = new TenantLog(TENANT);
    apply(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme' }, ctxAt(day(-40)));
    apply(log, create({ deactivationDate: NOW }), ctxAt(day(-30)));
    expect(decide(activate, log, ctxAt(new Date(NOW.getTime() - 1)))).toEqual([
      { type: 'key.activated.v1', data: { keyId: KEY, reason: 'requested' } },
    ]);
    expect(refusal(() => decide(activate, log, ctxAt(NOW))).code).toBe('illegal-transition');
  });

  it('destroys exactly when the waiting period ends, not a millisecond before', () => {
    const log = build('Deactivated (destruction pending)'); // destroyAfter = NOW + 6d
    expect(refusal(() => decide(destroy, log, ctxAt(new Date(day(6).getTime() - 1)))).details).toEqual({
      keyId: KEY,
      destroyAfter: iso(6),
    });
    expect(decide(destroy, log, ctxAt(day(6)))).toEqual([{ type: 'key.destroyed.v1', data: { keyId: KEY, versions: [1, 2] } }]);
  });

  it('refuses destroy without a schedule, and scheduling twice, with illegal-transition', () => {
    const log = build('Deactivated');
    expect(refusal(() => decide(destroy, log, ctxAt(NOW))).code).toBe('illegal-transition');
    apply(log, schedule, ctxAt(NOW));
    const again = refusal(() => decide(schedule, log, ctxAt(NOW)));
    expect(again.code).toBe('illegal-transition');
    expect(again.details).toEqual({ keyId: KEY, destroyAfter: iso(7) });
  });

  it('can be scheduled again after a cancellation', () => {
    const log = build('Compromised (destruction pending)');
    apply(log, { kind: 'key.cancel-destruction', keyId: KEY }, ctxAt(NOW));
    expect(log.keys.get(KEY)!.destroyAfter).toBeNull();
    expect(refusal(() => decide({ kind: 'key.cancel-destruction', keyId: KEY }, log, ctxAt(NOW))).code).toBe('illegal-transition');
    const events = apply(log, { kind: 'key.schedule-destruction', keyId: KEY, waitingPeriodDays: 1 }, ctxAt(NOW));
    expect(events.map((e) => e.data)).toEqual([{ keyId: KEY, waitingPeriodDays: 1, destroyAfter: iso(1) }]);
  });

  it('reports the state and the action in the details of an illegal transition', () => {
    const error = refusal(() => decide(COMMANDS['key.rotate'], build('Deactivated'), ctxAt(NOW)));
    expect(error).toBeInstanceOf(DomainError);
    expect(error.name).toBe('DomainError');
    expect(error.code).toBe('illegal-transition');
    expect(error.details).toEqual({ keyId: KEY, state: 'Deactivated', action: 'rotate' });
  });

  describe('no-op changes produce no events', () => {
    const noOps: Array<[string, ExistingKeyCommand]> = [
      ['same alias', { kind: 'key.set-alias', keyId: KEY, alias: 'primary' }],
      ['same label value', { kind: 'key.change-labels', keyId: KEY, set: { env: 'prod' } }],
      ['removing an absent label', { kind: 'key.change-labels', keyId: KEY, remove: ['absent'] }],
      ['empty label change', { kind: 'key.change-labels', keyId: KEY }],
      ['same description', { kind: 'key.set-description', keyId: KEY, description: 'original' }],
      ['same minimum decryption version', { kind: 'key.set-min-decryption-version', keyId: KEY, version: 1 }],
    ];
    const states: FixtureName[] = ['PreActive', 'Active', 'Deactivated', 'Compromised (destruction pending)'];
    it.each(states.flatMap((fixture) => noOps.map(([what, command]) => ({ fixture, what, command }))))(
      '$fixture: $what',
      ({ fixture, command }) => {
        const log = build(fixture);
        expect(decide(command, log, ctxAt(NOW, ACTOR))).toEqual([]);
      },
    );
  });

  // A key scheduled for destruction cannot be activated (cancel first), and an Active key can
  // never be destroyed: destruction needs a key that is out of use.
  it('refuses to activate a key scheduled for destruction, and to destroy an Active key', () => {
    const log = build('PreActive (destruction due)');
    expect(refusal(() => decide(activate, log, ctxAt(NOW))).code).toBe('illegal-transition');
    const active = build('Active');
    expect(refusal(() => decide(destroy, active, ctxAt(NOW))).code).toBe('illegal-transition');
  });
});
