import { MongoClient, type Db } from 'mongodb';
import type { KeywardEvent } from '@keyward/domain';
import {
  CommitStore,
  GENESIS_HASH,
  olderSchemaTenants,
  Projector,
  sealCommit,
  tenantChecksum,
  VIEW_SCHEMA_VERSION,
  ViewCollections,
  type Commit,
} from '@keyward/event-log';
import { testInfra, uniqueName } from '../support/env';

const actor = { principalId: 'prn_abcdefgh', role: 'tenant-admin' } as const;
const at = '2026-01-01T00:00:00.000Z';
const ev = (type: string, data: object): KeywardEvent => ({ type, data, actor, correlationId: 'r', at }) as KeywardEvent;
const KEY = 'key_1aaaaaaaa';

/** A tenant's chain: onboarding, a key created and activated (seq 2), then `more`, one commit each. */
function chain(tenantId: string, ...more: KeywardEvent[]): Commit[] {
  const bodies: KeywardEvent[][] = [
    [ev('tenant.onboarded.v1', { tenantId, name: 'A' })],
    [
      ev('key.created.v1', {
        keyId: KEY,
        keyType: 'AES-256-GCM',
        description: '',
        labels: {},
        exportable: false,
        version: { version: 1, kcv: 'k1' },
      }),
      ev('key.activated.v1', { keyId: KEY, reason: 'requested' }),
    ],
    ...more.map((e) => [e]),
  ];
  let prev = GENESIS_HASH;
  return bodies.map((events, i) => {
    const c = sealCommit({ tenantId, seq: i + 1, commandId: `c${i}`, events, committedAt: at, prevHash: prev });
    prev = c.hash;
    return c;
  });
}

const rotated = ev('key.rotated.v1', { keyId: KEY, version: { version: 2, kcv: 'k2' } });
const deactivated = ev('key.deactivated.v1', { keyId: KEY, reason: 'requested' });

/** The projector's view writes against the real FerretDB (concurrent writers: projector-concurrency.e2e-spec.ts). */
describe('projector writes (real FerretDB)', () => {
  let client: MongoClient;
  let db: Db;
  let views: ViewCollections;
  let store: CommitStore;

  beforeAll(async () => {
    client = new MongoClient(testInfra().mongoUri);
    await client.connect();
  });
  beforeEach(async () => {
    db = client.db(uniqueName('guards').replace(/[-.]/g, '_'));
    views = new ViewCollections(db);
    store = new CommitStore(db);
    await Promise.all([views.ensureIndexes(), store.ensureIndexes()]);
  });
  afterEach(() => db.dropDatabase());
  afterAll(() => client.close());

  const projector = (): Projector => new Projector(views, store);
  const keyView = async (tenantId: string) => views.keys.findOne({ _id: `${tenantId}:${KEY}` });

  it('builds the views, the tenant index and the checkpoint', async () => {
    const tenantId = uniqueName('tnt').replace(/[-.]/g, '_');
    const commits = chain(tenantId, rotated);
    for (const c of commits) await store.append(c);
    const p = projector();
    for (const c of commits) await p.apply([c]);
    expect(await keyView(tenantId)).toMatchObject({ state: 'Active', latestVersion: 2, appliedSeq: 3 });
    expect(await views.checkpoints.findOne({ _id: tenantId })).toMatchObject({ lastSeq: 3, lastHash: commits[2]!.hash });
    expect(await views.tenants.findOne({ _id: tenantId })).toMatchObject({ keyCount: 1 });
    expect(await views.indexes.findOne({ _id: tenantId })).toMatchObject({
      lastSeq: 3,
      tenantSeq: 3,
      keys: [{ keyId: KEY, state: 'Active', alias: null, labels: [], appliedSeq: 3 }],
      principals: [],
    });
  });

  it('a projector whose copy went stale does not overwrite what another one wrote after it', async () => {
    const tenantId = uniqueName('tnt').replace(/[-.]/g, '_');
    const commits = chain(tenantId, rotated, deactivated);
    for (const c of commits) await store.append(c);
    const stale = projector();
    for (const c of commits.slice(0, 2)) await stale.apply([c]);
    // Another projector (after a rebalance) projects seq 3 and 4 first.
    await projector().apply(commits.slice(2));
    expect(await keyView(tenantId)).toMatchObject({ state: 'Deactivated', appliedSeq: 4 });
    // The stale one still holds seq 2 and applies seq 3: its claim on the step from seq 2 is taken
    // (writing would bring back the Active key of seq 3); after reloading it sees seq 3 as a duplicate.
    expect(await stale.apply([commits[2]!])).toMatchObject({ applied: 0, duplicates: 1 });
    expect(await keyView(tenantId)).toMatchObject({ state: 'Deactivated', latestVersion: 2, appliedSeq: 4 });
    expect(await views.checkpoints.findOne({ _id: tenantId })).toMatchObject({ lastSeq: 4, lastHash: commits[3]!.hash });
  });

  it('loads a tenant through its index, and rebuilds it from the log when a view is behind its index entry', async () => {
    const tenantId = uniqueName('tnt').replace(/[-.]/g, '_');
    const commits = chain(tenantId, rotated, deactivated);
    for (const c of commits) await store.append(c);
    await projector().apply(commits.slice(0, 3));
    // An older state of the key written over the newer one (what a late write would leave behind).
    const atSeq3 = await keyView(tenantId);
    await projector().apply([commits[3]!]);
    await views.keys.replaceOne({ _id: `${tenantId}:${KEY}` }, { ...atSeq3!, appliedSeq: 2, state: 'PreActive' });
    const next = chain(tenantId, rotated, deactivated, ev('key.rotated.v1', { keyId: KEY, version: { version: 3, kcv: 'k3' } }));
    await store.append(next[4]!);
    await projector().apply([next[4]!]);
    expect(await keyView(tenantId)).toMatchObject({ state: 'Deactivated', latestVersion: 3, appliedSeq: 5 });
  });

  it('indexes a tenant whose views were projected before there was a tenant index, to the same views', async () => {
    const tenantId = uniqueName('tnt').replace(/[-.]/g, '_');
    const commits = chain(tenantId, rotated, deactivated);
    for (const c of commits) await store.append(c);
    await projector().apply(commits);
    const before = await tenantChecksum(views, tenantId);
    await views.indexes.deleteOne({ _id: tenantId });
    expect(await projector().index([tenantId])).toBe(1);
    expect(await views.indexes.findOne({ _id: tenantId })).toMatchObject({ lastSeq: 4, keys: [{ keyId: KEY, state: 'Deactivated' }] });
    expect(await tenantChecksum(views, tenantId)).toBe(before);
  });

  it('rebuilds a tenant whose views an older view schema wrote (issue 15: an older default tenant policy), to what the log folds into now', async () => {
    const tenantId = uniqueName('tnt').replace(/[-.]/g, '_');
    const commits = chain(tenantId, rotated);
    for (const c of commits) await store.append(c);
    await projector().apply(commits);
    // As an older version left it: its own policy in the tenant view, and an index without a version.
    const tenant = await views.tenants.findOne({ _id: tenantId });
    await views.tenants.replaceOne(
      { _id: tenantId },
      { ...tenant!, policy: { ...tenant!.policy, dualControl: { ...tenant!.policy.dualControl, operations: [] } } },
    );
    await views.indexes.updateOne({ _id: tenantId }, { $unset: { schema: '' } });
    expect(await olderSchemaTenants(views)).toEqual([tenantId]);

    // The next commit of the tenant is projected from a rebuild, not on top of the older views.
    const next = chain(tenantId, rotated, deactivated);
    await store.append(next[3]!);
    await projector().apply([next[3]!]);
    expect(await views.tenants.findOne({ _id: tenantId })).toMatchObject({ policy: tenant!.policy });
    expect(await views.indexes.findOne({ _id: tenantId })).toMatchObject({ schema: VIEW_SCHEMA_VERSION, lastSeq: 4 });
    expect(await olderSchemaTenants(views)).toEqual([]);
    expect(await keyView(tenantId)).toMatchObject({ state: 'Deactivated', appliedSeq: 4 });
  });

  it('a projector start (index) rebuilds such a tenant with no commit to apply', async () => {
    const tenantId = uniqueName('tnt').replace(/[-.]/g, '_');
    const commits = chain(tenantId, rotated, deactivated);
    for (const c of commits) await store.append(c);
    await projector().apply(commits);
    const fresh = await tenantChecksum(views, tenantId);
    const tenant = await views.tenants.findOne({ _id: tenantId });
    await views.tenants.replaceOne(
      { _id: tenantId },
      { ...tenant!, policy: { ...tenant!.policy, dualControl: { ...tenant!.policy.dualControl, operations: [] } } },
    );
    await views.indexes.updateOne({ _id: tenantId }, { $set: { schema: VIEW_SCHEMA_VERSION - 1 } });
    expect(await tenantChecksum(views, tenantId)).not.toBe(fresh);
    expect(await projector().index([tenantId])).toBe(1);
    expect(await tenantChecksum(views, tenantId)).toBe(fresh);
  });
});
