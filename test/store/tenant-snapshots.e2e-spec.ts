import { randomBytes } from 'node:crypto';
import { Binary, MongoClient, type Db } from 'mongodb';
import type { DecisionContext, KeywardCommand } from '@keyward/domain';
import {
  CommandExecutor,
  CommitStore,
  TENANT_SNAPSHOTS,
  TenantSnapshots,
  type SnapshotEvent,
  type TenantSnapshotDocument,
} from '@keyward/event-log';
import { expectIndexed } from '../support/query-plan';
import { testInfra, uniqueName } from '../support/env';

const ADMIN: DecisionContext['actor'] = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const ctx = (n: number, actor: DecisionContext['actor'] = ADMIN): DecisionContext => ({
  now: new Date(Date.UTC(2030, 0, 1, 0, n)),
  actor,
  correlationId: `c${n}`,
});

/** Counts the store's point reads of commits (what a cold load costs). */
class CountingStore extends CommitStore {
  gets = 0;
  override get(tenantId: string, seq: number) {
    this.gets++;
    return super.get(tenantId, seq);
  }
}

// Tenant-log snapshots against the real store: a cold executor starts from the snapshot plus the
// commits after it, decides exactly as one that folded every commit, and ignores a snapshot that is
// tampered with, of another state version, ahead of the store (restored to an earlier point), or
// unverifiable (sealed).
jest.setTimeout(60_000);

describe('tenant-log snapshots (real store)', () => {
  let client: MongoClient;
  let db: Db;
  const macKey = randomBytes(32);
  let tenantId = '';
  let commands = 0;

  /** An executor with snapshots, its store's read count, and what it did with snapshots. */
  const executor = (key: Buffer | null = macKey, everyCommits = 8) => {
    const store = new CountingStore(db);
    const exec = new CommandExecutor(store);
    const events: SnapshotEvent[] = [];
    exec.useSnapshots({ snapshots: new TenantSnapshots(db, () => key ?? undefined), everyCommits, observe: (e) => events.push(e) });
    return { store, exec, events };
  };
  const plain = () => new CommandExecutor(new CommitStore(db));
  const snapshots = () => db.collection<TenantSnapshotDocument>(TENANT_SNAPSHOTS);
  const waitForSnapshot = async (minSeq: number) => {
    for (let i = 0; i < 200; i++) {
      const doc = await snapshots().findOne({ _id: tenantId });
      if (doc && doc.seq >= minSeq) return doc;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no snapshot at seq >= ${minSeq}`);
  };

  beforeAll(async () => {
    client = await MongoClient.connect(testInfra().mongoUri);
    db = client.db(uniqueName('snapshots').replace(/[-.]/g, '_'));
    tenantId = `tnt_${randomBytes(6).toString('hex')}`;
    const { exec } = executor();
    const run = (command: KeywardCommand, actor = ADMIN) => exec.execute(tenantId, command, ctx(++commands, actor));
    await run(
      { kind: 'tenant.onboard', tenantId, name: 'Snap', firstAdmin: { principalId: ADMIN.principalId, name: 'a' } },
      {
        principalId: 'prn_provider01',
        role: 'provider-admin',
      },
    );
    await run({ kind: 'principal.create', principalId: 'prn_user00001', name: 'u', role: 'key-user' });
    for (let i = 0; i < 12; i++) {
      await run({
        kind: 'key.create',
        keyId: `key_snap${String(i).padStart(4, '0')}`,
        keyType: 'AES-256-GCM',
        kcv: `k${i}`,
        alias: `a${i}`,
      });
      await run({ kind: 'key.activate', keyId: `key_snap${String(i).padStart(4, '0')}` });
    }
    await run({
      kind: 'grant.create',
      grantId: 'grt_snap0001',
      principalId: 'prn_user00001',
      operations: ['encrypt'],
      keys: { ids: ['key_snap0003'] },
      conditions: {},
    });
    await waitForSnapshot(24);
  });
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  it('writes a snapshot every few commits, with no key material in it', async () => {
    const doc = await waitForSnapshot(24);
    expect(doc.stateVersion).toBeGreaterThan(0);
    expect(doc.mac).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(doc)).not.toMatch(/wrapped|material|plaintext/i);
  });

  it('a cold executor starts from the snapshot, reads only the commits after it, and holds the same log', async () => {
    const expected = await plain().current(tenantId);
    const { store, exec, events } = executor();
    const log = await exec.current(tenantId);
    expect(events).toContain('restored');
    expect(log).toEqual(expected);
    // The snapshot's own commit (head check) and the commits after it, plus the probe past the head: not the whole log.
    expect(store.gets).toBeLessThan(expected.seq / 2);
    // It keeps deciding on the restored state: a command after it lands at the next seq.
    const next = await exec.execute(tenantId, { kind: 'key.deactivate', keyId: 'key_snap0001' }, ctx(++commands));
    expect(next.seq).toBe(expected.seq + 1);
    expect(await plain().current(tenantId)).toEqual(next.log);
  });

  it('the snapshot read is served by the _id index', async () => {
    await expectIndexed(snapshots(), { _id: tenantId });
  });

  it('ignores a snapshot whose state was altered (MAC), and folds the log from its commits', async () => {
    const doc = (await snapshots().findOne({ _id: tenantId }))!;
    const forged = Buffer.from(doc.state.buffer);
    forged.writeUInt8(forged.readUInt8(forged.length - 1) ^ 1, forged.length - 1);
    await snapshots().updateOne({ _id: tenantId }, { $set: { state: new Binary(forged) } });
    const { store, exec, events } = executor(macKey, 1_000_000);
    const log = await exec.current(tenantId);
    expect(events).toEqual(['rejected-mac']);
    expect(log).toEqual(await plain().current(tenantId));
    expect(store.gets).toBeGreaterThan(log.seq);
  });

  it('ignores a snapshot under another key (not written by this deployment) and while sealed', async () => {
    const writer = executor(macKey, 1);
    await writer.exec.current(tenantId);
    await writer.exec.execute(tenantId, { kind: 'key.deactivate', keyId: 'key_snap0004' }, ctx(++commands));
    await waitForSnapshot(commands);
    const stranger = executor(randomBytes(32), 1_000_000);
    expect(await stranger.exec.current(tenantId)).toEqual(await plain().current(tenantId));
    expect(stranger.events).toEqual(['rejected-mac']);
    const sealed = executor(null, 1); // no root key: no MAC key
    expect(await sealed.exec.current(tenantId)).toEqual(await plain().current(tenantId));
    expect(sealed.events).toEqual([]);
    expect(sealed.store.gets).toBeGreaterThan(commands);
  });

  it('ignores a snapshot of another state version (written by other code)', async () => {
    await snapshots().updateOne({ _id: tenantId }, { $inc: { stateVersion: 1 } });
    const cold = executor(macKey, 1_000_000);
    expect(await cold.exec.current(tenantId)).toEqual(await plain().current(tenantId));
    expect(cold.events).toEqual(['rejected-version']);
  });

  it('ignores a snapshot ahead of the store (commits restored to an earlier point)', async () => {
    const other = `tnt_${randomBytes(6).toString('hex')}`;
    const { exec } = executor(macKey, 2);
    await exec.execute(
      other,
      { kind: 'tenant.onboard', tenantId: other, name: 'Rewound' },
      ctx(1, { principalId: 'prn_provider01', role: 'provider-admin' }),
    );
    for (let i = 0; i < 4; i++)
      await exec.execute(other, { kind: 'key.create', keyId: `key_rew0000${i}`, keyType: 'AES-256-GCM', kcv: `r${i}` }, ctx(2 + i));
    for (let i = 0; i < 200 && ((await snapshots().findOne({ _id: other }))?.seq ?? 0) < 4; i++)
      await new Promise((r) => setTimeout(r, 25));
    const snapshotSeq = (await snapshots().findOne({ _id: other }))!.seq;
    // The store loses its newest commits (a restore to an earlier point), and another history is written from there.
    await db.collection('commits').deleteMany({ tenantId: other, seq: { $gte: snapshotSeq } });
    const rewritten = plain();
    await rewritten.execute(other, { kind: 'key.create', keyId: 'key_rew00009', keyType: 'HMAC-SHA256', kcv: 'x' }, ctx(30));
    const cold = executor(macKey, 1_000_000);
    const log = await cold.exec.current(other);
    expect(cold.events).toEqual(['rejected-head']);
    expect(log).toEqual(await plain().current(other));
    expect(log.keys.has('key_rew00009')).toBe(true);
  });
});
