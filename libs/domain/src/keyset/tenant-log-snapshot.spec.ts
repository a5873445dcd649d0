import { createHash } from 'node:crypto';
import { applyCommand, day } from '../testing/spec-helpers';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import { evolveCommit, TenantLog, type KeywardCommand, type KeywardEvent } from './keyset';
import { restoreSnapshot, snapshotOf, TENANT_LOG_STATE_VERSION, type TenantLogSnapshot } from './tenant-log-snapshot';
import { authorize, mayReadKey } from '../grant/authorize';

const TENANT = 'tnt_snapshot01';
const PROVIDER: Actor = { principalId: 'prn_provider01', role: 'provider-admin' };
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const ADMIN2: Actor = { principalId: 'prn_admin0002', role: 'tenant-admin' };
const USER: Actor = { principalId: 'prn_user00001', role: 'key-user' };
const OTHER: Actor = { principalId: 'prn_user00002', role: 'key-user' };
const ARRAY: Actor = { principalId: 'prn_array0001', role: 'kmip-client' };

/** A history touching every part of the state: tenant policy, principals, a certificate, keys, aliases, grants, approvals. */
function history(): KeywardEvent[][] {
  const log = new TenantLog(TENANT);
  const commits: KeywardEvent[][] = [];
  let minute = 0;
  const run = (command: KeywardCommand, actor: Actor = ADMIN) => {
    const ctx: DecisionContext = { now: new Date(day(-30).getTime() + ++minute * 60_000), actor, correlationId: `c${minute}` };
    commits.push(applyCommand(log, command, ctx));
  };
  run(
    {
      kind: 'tenant.onboard',
      tenantId: TENANT,
      name: 'Snap',
      grants: 'required',
      firstAdmin: { principalId: ADMIN.principalId, name: 'a' },
    },
    PROVIDER,
  );
  for (const p of [ADMIN2, USER, OTHER, ARRAY])
    run({ kind: 'principal.create', principalId: p.principalId, name: p.principalId, role: p.role });
  run({ kind: 'principal.bind-certificate', principalId: ARRAY.principalId, fingerprint: 'ab'.repeat(32) });
  for (let i = 0; i < 6; i++) {
    run({
      kind: 'key.create',
      keyId: `key_snap000${i}`,
      keyType: 'AES-256-GCM',
      kcv: `k${i}`,
      alias: `team/k${i}`,
      labels: { n: String(i % 2) },
    });
    run({ kind: 'key.activate', keyId: `key_snap000${i}` });
  }
  run({ kind: 'key.create', keyId: 'key_array001', keyType: 'AES-256-GCM', kcv: 'ka' }, ARRAY);
  run({ kind: 'key.rotate', keyId: 'key_snap0001', kcv: 'k1b' });
  run({ kind: 'key.set-alias', keyId: 'key_snap0002', alias: 'renamed' });
  run({
    kind: 'grant.create',
    grantId: 'grt_byid0001',
    principalId: USER.principalId,
    operations: ['encrypt', 'read'],
    keys: { ids: ['key_snap0001', 'key_snap0003'] },
    conditions: {},
  });
  run({
    kind: 'grant.create',
    grantId: 'grt_prefix01',
    principalId: USER.principalId,
    operations: ['decrypt'],
    keys: { aliasPrefix: 'team/' },
    conditions: {},
  });
  run({
    kind: 'grant.create',
    grantId: 'grt_label001',
    principalId: OTHER.principalId,
    operations: ['encrypt', 'read'],
    keys: { labels: { n: '1' } },
    conditions: {},
  });
  run({
    kind: 'grant.create',
    grantId: 'grt_byid0002',
    principalId: USER.principalId,
    operations: ['decrypt'],
    keys: { ids: ['key_snap0001'] },
    conditions: {},
  });
  run({ kind: 'grant.revoke', grantId: 'grt_byid0001' });
  for (const keyId of ['key_snap0004', 'key_snap0005']) run({ kind: 'key.deactivate', keyId });
  run({ kind: 'approval.request', approvalId: 'apr_snap0001', command: { kind: 'key.schedule-destruction', keyId: 'key_snap0004' } });
  run({ kind: 'approval.request', approvalId: 'apr_snap0002', command: { kind: 'key.schedule-destruction', keyId: 'key_snap0005' } });
  run({ kind: 'approval.approve', approvalId: 'apr_snap0002' }, ADMIN2);
  run({ kind: 'principal.revoke', principalId: OTHER.principalId });
  return commits;
}

const fold = (commits: readonly KeywardEvent[][], from = 0, log = new TenantLog(TENANT)): TenantLog => {
  commits.slice(from).forEach((events, i) => evolveCommit(log, { seq: from + i + 1, events }));
  return log;
};

/** Through JSON, as the store keeps it. */
const stored = (log: TenantLog): TenantLogSnapshot => JSON.parse(JSON.stringify(snapshotOf(log))) as TenantLogSnapshot;

describe('tenant log snapshots', () => {
  const commits = history();
  const whole = fold(commits);

  it('covers every part of the state in the fixture (else the round trip proves less than it claims)', () => {
    expect(whole.keys.size).toBe(7);
    expect(whole.aliases.has('renamed')).toBe(true);
    expect(whole.certificates.size).toBe(1);
    expect(whole.approvals.size).toBeGreaterThanOrEqual(2);
    expect([...whole.approvals.values()].map((a) => a.status).sort()).toEqual(['Executed', 'Pending']);
    expect([...whole.grants.values()].filter((g) => g.revokedAt !== null).length).toBeGreaterThanOrEqual(1);
    expect(whole.grantsOf(USER.principalId).map((g) => g.grantId)).toEqual(['grt_prefix01', 'grt_byid0002']);
  });

  it('restoring a snapshot taken at any seq, then folding the rest, gives the log folded from the start', () => {
    for (let at = 1; at <= commits.length; at++) {
      const restored = restoreSnapshot(TENANT, stored(fold(commits.slice(0, at))));
      expect(restored).toBeDefined();
      expect(fold(commits, at, restored)).toEqual(whole);
    }
  });

  it('restores the grant index in creation order, so authorization decides as on the folded log', () => {
    const restored = restoreSnapshot(TENANT, stored(whole)) as TenantLog;
    const now = day(0);
    for (const who of [USER, OTHER, ARRAY, ADMIN]) {
      for (const key of whole.keys.values()) {
        expect(restored.grantsFor(who.principalId, key.keyId)).toEqual(whole.grantsFor(who.principalId, key.keyId));
        for (const op of ['encrypt', 'decrypt', 'read'] as const) {
          expect(authorize(restored, who, restored.keys.get(key.keyId), op, {}, now)).toEqual(authorize(whole, who, key, op, {}, now));
        }
        expect(mayReadKey(restored, who, key, now)).toBe(mayReadKey(whole, who, key, now));
      }
    }
  });

  it('is refused for another log, another state version or a seq that is not a commit', () => {
    const snapshot = stored(whole);
    expect(restoreSnapshot('tnt_other0001', snapshot)).toBeUndefined();
    expect(restoreSnapshot(TENANT, { ...snapshot, stateVersion: TENANT_LOG_STATE_VERSION + 1 })).toBeUndefined();
    expect(restoreSnapshot(TENANT, { ...snapshot, seq: 0 })).toBeUndefined();
    expect(restoreSnapshot(TENANT, { ...snapshot, seq: 1.5 })).toBeUndefined();
  });

  it('holds no key material: key states carry check values only', () => {
    expect(JSON.stringify(snapshotOf(whole))).not.toMatch(/material|wrapped|plaintext/i);
  });

  // When this fails, an evolve function changed what it builds: bump TENANT_LOG_STATE_VERSION (snapshots
  // taken by the older code are then ignored and the logs replayed) and update the pinned digest.
  it('pins the shape of the folded state (bump TENANT_LOG_STATE_VERSION when it changes)', () => {
    const digest = createHash('sha256')
      .update(JSON.stringify(snapshotOf(whole)))
      .digest('hex');
    expect({ stateVersion: TENANT_LOG_STATE_VERSION, digest }).toEqual({
      stateVersion: 1,
      digest: 'f201aa03d648283960d88efea8587214e5fd855fbb9b0d2e52850c6afcc4090e',
    });
  });
});
