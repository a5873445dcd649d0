import { NOW, day } from '../testing/spec-helpers';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import { DomainError } from '../shared/domain-error';
import { decide, evolve, evolveCommit, stamp, TenantLog, type KeywardCommand, type KeywardEvent, type KeywardEventBody } from './keyset';

// ---------------------------------------------------------------------------------------------
// Test-only helpers.
// ---------------------------------------------------------------------------------------------

const TENANT = 'tnt_acme0001';
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const USER: Actor = { principalId: 'prn_user00001', role: 'key-user' };
const PROVIDER: Actor = { principalId: 'prn_root00001', role: 'provider-admin' };

const ctxAt = (now: Date, actor: Actor = ADMIN, correlationId = `corr-${now.getTime()}`): DecisionContext => ({
  now,
  actor,
  correlationId,
});

interface Commit {
  readonly seq: number;
  readonly events: readonly KeywardEvent[];
}

/** Decides and stamps one command, folds it as the next commit, and returns the commit. */
function commit(log: TenantLog, command: KeywardCommand, ctx: DecisionContext): Commit {
  const stored: Commit = { seq: log.seq + 1, events: stamp(decide(command, log, ctx), ctx) };
  evolveCommit(log, stored);
  return stored;
}

/** A realistic history: a tenant, principals, several keys driven through most of the lifecycle. */
function history(): { log: TenantLog; commits: Commit[] } {
  const log = new TenantLog(TENANT);
  const script: Array<[number, Actor, KeywardCommand]> = [
    [
      -60,
      PROVIDER,
      { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme', firstAdmin: { principalId: 'prn_admin0001', name: 'alice' } },
    ],
    [-59, ADMIN, { kind: 'principal.create', principalId: 'prn_user00001', name: 'bob', role: 'key-user' }],
    [
      -58,
      ADMIN,
      {
        kind: 'key.create',
        keyId: 'key_alpha0001',
        keyType: 'AES-256-GCM',
        alias: 'alpha',
        labels: { env: 'prod' },
        activate: true,
        kcv: 'A1',
      },
    ],
    [-58, ADMIN, { kind: 'key.create', keyId: 'key_beta00001', keyType: 'HMAC-SHA256', alias: 'beta', description: 'mac', kcv: 'B1' }],
    [
      -57,
      ADMIN,
      {
        kind: 'key.create',
        keyId: 'key_gamma0001',
        keyType: 'AES-256-GCM',
        activationDate: day(-50),
        deactivationDate: day(30),
        kcv: 'G1',
      },
    ],
    [-50, PROVIDER, { kind: 'key.activate', keyId: 'key_gamma0001', reason: 'activation-date' }],
    [-50, USER, { kind: 'key.rotate', keyId: 'key_alpha0001', kcv: 'A2' }],
    [-49, USER, { kind: 'key.rotate', keyId: 'key_alpha0001', kcv: 'A3' }],
    [-48, ADMIN, { kind: 'key.set-min-decryption-version', keyId: 'key_alpha0001', version: 2 }],
    [-47, ADMIN, { kind: 'key.change-labels', keyId: 'key_alpha0001', set: { team: 'pay' }, remove: ['env'] }],
    [-46, ADMIN, { kind: 'key.set-alias', keyId: 'key_alpha0001', alias: 'alpha-2' }],
    [-45, ADMIN, { kind: 'key.deactivate', keyId: 'key_beta00001' }],
    [-44, ADMIN, { kind: 'key.schedule-destruction', keyId: 'key_beta00001', waitingPeriodDays: 3 }],
    [-40, ADMIN, { kind: 'key.destroy', keyId: 'key_beta00001' }],
    [-39, ADMIN, { kind: 'key.set-alias', keyId: 'key_gamma0001', alias: 'beta' }],
    [-38, ADMIN, { kind: 'key.create', keyId: 'key_delta0001', keyType: 'AES-256-GCM', kcv: 'D1' }],
    [-37, ADMIN, { kind: 'key.schedule-destruction', keyId: 'key_delta0001' }],
    [-36, ADMIN, { kind: 'key.cancel-destruction', keyId: 'key_delta0001' }],
    [-30, PROVIDER, { kind: 'tenant.suspend', tenantId: TENANT, reason: 'audit' }],
    [-29, PROVIDER, { kind: 'tenant.resume', tenantId: TENANT }],
    [-20, ADMIN, { kind: 'key.compromise', keyId: 'key_alpha0001', reason: 'leak', compromiseDate: day(-25) }],
    [-10, ADMIN, { kind: 'principal.revoke', principalId: 'prn_user00001' }],
    [-5, ADMIN, { kind: 'key.set-description', keyId: 'key_gamma0001', description: 'rotating soon' }],
  ];
  const commits = script.map(([offset, actor, command]) => commit(log, command, ctxAt(day(offset), actor)));
  return { log, commits };
}

function replay(commits: readonly Commit[], logId = TENANT): TenantLog {
  const log = new TenantLog(logId);
  for (const c of commits) evolveCommit(log, c);
  return log;
}

// ---------------------------------------------------------------------------------------------

describe('stamp', () => {
  it('adds actor, correlationId and the ISO time of the context to every body, keeping type and data', () => {
    const bodies: KeywardEventBody[] = [
      { type: 'key.rotated.v1', data: { keyId: 'key_alpha0001', version: { version: 2, kcv: 'K2' } } },
      { type: 'key.description-set.v1', data: { keyId: 'key_alpha0001', description: 'x' } },
    ];
    const ctx = ctxAt(new Date('2031-01-02T03:04:05.678Z'), USER, 'req-42');
    expect(stamp(bodies, ctx)).toStrictEqual([
      {
        type: 'key.rotated.v1',
        data: { keyId: 'key_alpha0001', version: { version: 2, kcv: 'K2' } },
        actor: USER,
        correlationId: 'req-42',
        at: '2031-01-02T03:04:05.678Z',
      },
      {
        type: 'key.description-set.v1',
        data: { keyId: 'key_alpha0001', description: 'x' },
        actor: USER,
        correlationId: 'req-42',
        at: '2031-01-02T03:04:05.678Z',
      },
    ]);
  });

  it('does not mutate the bodies, and stamps nothing for no bodies', () => {
    const bodies: KeywardEventBody[] = [{ type: 'tenant.resumed.v1', data: { tenantId: TENANT } }];
    const copy = structuredClone(bodies);
    stamp(bodies, ctxAt(NOW));
    expect(bodies).toStrictEqual(copy);
    expect(stamp([], ctxAt(NOW))).toEqual([]);
  });

  it('uses the injected clock, not the wall clock', () => {
    const [event] = stamp([{ type: 'tenant.resumed.v1', data: { tenantId: TENANT } }], ctxAt(new Date('1999-12-31T23:59:59.000Z')));
    expect(event?.at).toBe('1999-12-31T23:59:59.000Z');
  });
});

describe('evolveCommit', () => {
  it('advances seq to the commit seq and folds the events in order', () => {
    const log = new TenantLog(TENANT);
    expect(log.seq).toBe(0);
    const c1 = commit(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme' }, ctxAt(day(-2)));
    expect(c1.seq).toBe(1);
    expect(log.seq).toBe(1);
    // One commit, two events (create + activate), applied in order.
    const c2 = commit(
      log,
      { kind: 'key.create', keyId: 'key_alpha0001', keyType: 'AES-256-GCM', activate: true, kcv: 'A1' },
      ctxAt(day(-1)),
    );
    expect(c2.events.map((e) => e.type)).toEqual(['key.created.v1', 'key.activated.v1']);
    expect(log.seq).toBe(2);
    expect(log.keys.get('key_alpha0001')?.state).toBe('Active');
  });

  it('takes the seq from the commit (gaps included), also for an empty commit', () => {
    const log = new TenantLog(TENANT);
    evolveCommit(log, { seq: 7, events: [] });
    expect(log.seq).toBe(7);
    expect(log.tenant).toBeUndefined();
    evolveCommit(log, {
      seq: 12,
      events: [
        {
          type: 'tenant.onboarded.v1',
          data: { tenantId: TENANT, name: 'Acme' },
          actor: PROVIDER,
          correlationId: 'c',
          at: NOW.toISOString(),
        },
      ],
    });
    expect(log.seq).toBe(12);
    expect(log.tenant?.status).toBe('Active');
  });

  it('returns the same log instance it folded into', () => {
    const log = new TenantLog(TENANT);
    expect(evolveCommit(log, { seq: 1, events: [] })).toBe(log);
    expect(
      evolve(log, {
        type: 'tenant.onboarded.v1',
        data: { tenantId: TENANT, name: 'A' },
        actor: PROVIDER,
        correlationId: 'c',
        at: NOW.toISOString(),
      }),
    ).toBe(log);
  });

  it('ignores key events for a key that was never created', () => {
    const log = new TenantLog(TENANT);
    evolve(log, {
      type: 'key.alias-set.v1',
      data: { keyId: 'key_ghost0001', alias: 'ghost' },
      actor: ADMIN,
      correlationId: 'c',
      at: NOW.toISOString(),
    });
    expect(log.keys.size).toBe(0);
    expect(log.aliases.size).toBe(0);
  });
});

describe('determinism', () => {
  it('the history builds the expected state', () => {
    const { log, commits } = history();
    expect(commits).toHaveLength(23);
    expect(log.seq).toBe(23);
    expect(log.tenant).toMatchObject({ status: 'Active', name: 'Acme' });
    expect(log.keys.get('key_alpha0001')).toMatchObject({
      state: 'Compromised',
      latestVersion: 3,
      minDecryptionVersion: 2,
      alias: 'alpha-2',
      labels: { team: 'pay' },
    });
    expect(log.keys.get('key_beta00001')).toMatchObject({ state: 'Destroyed', alias: null });
    expect(log.keys.get('key_delta0001')).toMatchObject({ state: 'PreActive', destroyAfter: null });
    expect(log.keys.get('key_gamma0001')).toMatchObject({ state: 'Active', alias: 'beta', description: 'rotating soon' });
    expect([...log.aliases].sort()).toEqual([
      ['alpha-2', 'key_alpha0001'],
      ['beta', 'key_gamma0001'],
    ]);
    expect(log.principals.get('prn_admin0001')).toMatchObject({ role: 'tenant-admin', revokedAt: null });
    expect(log.principals.get('prn_user00001')?.revokedAt).toBe(day(-10).toISOString());
  });

  it('replaying the same commits into a fresh TenantLog yields deep-equal state', () => {
    const { log, commits } = history();
    const replayed = replay(commits);
    expect(replayed).toStrictEqual(log);
    expect([...replayed.keys.entries()]).toStrictEqual([...log.keys.entries()]);
    expect([...replayed.aliases.entries()]).toStrictEqual([...log.aliases.entries()]);
    expect([...replayed.principals.entries()]).toStrictEqual([...log.principals.entries()]);
    expect(replayed.tenant).toStrictEqual(log.tenant);
    expect(replayed.seq).toBe(log.seq);
  });

  it('replaying commits that went through JSON (as stored) yields the same state', () => {
    const { log, commits } = history();
    const stored = JSON.parse(JSON.stringify(commits)) as Commit[];
    expect(replay(stored)).toStrictEqual(log);
  });

  it('building the history twice produces identical commits', () => {
    expect(history().commits).toStrictEqual(history().commits);
  });

  it('deciding does not change the log', () => {
    const { log } = history();
    const before = replay(history().commits);
    decide({ kind: 'key.rotate', keyId: 'key_gamma0001', kcv: 'G2' }, log, ctxAt(NOW));
    decide({ kind: 'key.set-alias', keyId: 'key_gamma0001', alias: 'gamma' }, log, ctxAt(NOW));
    expect(() => decide({ kind: 'key.rotate', keyId: 'key_alpha0001', kcv: 'X' }, log, ctxAt(NOW))).toThrow(DomainError);
    expect(log).toStrictEqual(before);
  });
});

describe('events and state are plain JSON', () => {
  it('every stored event survives a JSON round trip unchanged', () => {
    const { commits } = history();
    const events = commits.flatMap((c) => c.events);
    // Every event type but tenant.offboarded.v1 occurs in the history.
    expect(new Set(events.map((e) => e.type)).size).toBe(17);
    for (const event of events) {
      expect(JSON.parse(JSON.stringify(event))).toStrictEqual(event);
      expect(typeof event.at).toBe('string');
      expect(new Date(event.at).toISOString()).toBe(event.at);
    }
  });

  it('every key, principal and tenant state survives a JSON round trip unchanged', () => {
    const { log } = history();
    for (const state of [...log.keys.values(), ...log.principals.values(), log.tenant]) {
      expect(JSON.parse(JSON.stringify(state))).toStrictEqual(state);
    }
  });

  it('dates in events are ISO-8601 UTC strings', () => {
    const { commits } = history();
    const gamma = commits.flatMap((c) => c.events).find((e) => e.type === 'key.created.v1' && e.data.keyId === 'key_gamma0001');
    expect(gamma?.data).toMatchObject({ activationDate: day(-50).toISOString(), deactivationDate: day(30).toISOString() });
  });
});
