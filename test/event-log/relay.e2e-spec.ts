import { Kafka, logLevel } from 'kafkajs';
import { MongoClient, type Db } from 'mongodb';
import {
  COMMITS,
  CommitStore,
  fromMessage,
  GENESIS_HASH,
  Lease,
  ORPHAN_MARKER_AGE_MS,
  Relay,
  sealCommit,
  type Commit,
  type CommitDocument,
} from '@keyward/event-log';
import { testInfra, uniqueName } from '../support/env';
import { readTopicItems } from '../support/topic-reader';

jest.setTimeout(120_000);

const quiet = { warn: () => undefined, log: () => undefined };

/** The relay against the real Kafka and FerretDB: handed-over commits, sweeps, two instances. */
describe('relay (real Kafka and FerretDB)', () => {
  const kafka = new Kafka({ clientId: 'relay-spec', brokers: testInfra().brokers, logLevel: logLevel.NOTHING });
  let client: MongoClient;
  let db: Db;
  let store: CommitStore;
  let topic: string;
  const relays: Relay[] = [];

  beforeAll(async () => {
    client = new MongoClient(testInfra().mongoUri);
    await client.connect();
  });
  beforeEach(async () => {
    db = client.db(uniqueName('relay').replace(/[-.]/g, '_'));
    store = new CommitStore(db);
    await store.ensureIndexes();
    topic = uniqueName('relay-spec');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await db.dropDatabase();
  });
  afterAll(() => client.close());

  const relay = (idleMs: number, lease = new Lease(db, 'relay')): Relay => {
    const r = new Relay(kafka, store, lease, { topic, idleMs }, quiet);
    relays.push(r);
    return r;
  };

  /** `count` commits of a fresh tenant (a valid chain), not stored. */
  const chain = (count: number, committedAt = new Date().toISOString()): Commit[] => {
    const tenantId = uniqueName('ten').replace(/[-.]/g, '_');
    const commits: Commit[] = [];
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= count; seq++) {
      const commit = sealCommit({ tenantId, seq, commandId: `c${seq}`, events: [], committedAt, prevHash });
      commits.push(commit);
      prevHash = commit.hash;
    }
    return commits;
  };

  /** Stores `count` commits of a fresh tenant (a valid chain), as the command executor does. */
  const storeCommits = async (count: number): Promise<Commit[]> => {
    const commits = chain(count);
    for (const commit of commits) await store.append(commit);
    return commits;
  };

  /** The commits on the topic, in topic order, once `expected` arrived or time ran out. */
  const readTopic = (expected: number, timeoutMs: number): Promise<Commit[]> =>
    readTopicItems(topic, expected, timeoutMs, (value) => [fromMessage(value)]);

  const ids = (commits: readonly Commit[]): string[] => commits.map((c) => `${c.tenantId}:${c.seq}`);

  it('publishes handed-over commits at once, in seq order, without waiting for a sweep, and marks them published', async () => {
    // Sweeps only when it takes the lease: what it publishes afterwards was handed over.
    const r = relay(60_000);
    r.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const commits = await storeCommits(20);
    for (const c of commits) r.nudge(c);
    const onTopic = await readTopic(20, 10_000);
    expect(ids(onTopic)).toEqual(ids(commits));
    await waitUntil(async () => (await store.unpublished(100)).length === 0, 5_000);
  });

  it('leaves commits it was not handed to the sweeps, which find them', async () => {
    const lazy = relay(60_000);
    lazy.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const foreign = await storeCommits(5);
    // A slow sweep pace: nothing yet, although the relay runs.
    expect(await readTopic(5, 1_500)).toEqual([]);
    await lazy.stop();
    // A relay that sweeps every 100 ms on this small store (another instance, or after a restart).
    relay(100).start();
    expect(ids(await readTopic(5, 10_000))).toEqual(ids(foreign));
    await waitUntil(async () => (await store.unpublished(100)).length === 0, 5_000);
  });

  it('a second instance without the lease drops what it is handed; the holder sweeps it up', async () => {
    const holder = relay(100, new Lease(db, 'relay'));
    holder.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const other = relay(100, new Lease(db, 'relay'));
    other.start();
    const mine = await storeCommits(3);
    const theirs = await storeCommits(3);
    for (const c of mine) holder.nudge(c);
    for (const c of theirs) other.nudge(c);
    const onTopic = await readTopic(6, 10_000);
    expect(ids(onTopic).sort()).toEqual(ids([...mine, ...theirs]).sort());
    // Published once each: the holder's passes and sweeps do not repeat each other here.
    expect(onTopic).toHaveLength(6);
  });

  it('marks 150 commits published in one call (FerretDB hangs on one command of 100 update statements)', async () => {
    const commits = await storeCommits(150);
    await store.markPublished(ids(commits));
    expect(await store.unpublished(500)).toEqual([]);
  });

  it('publishOnce sweeps and publishes everything unpublished (the CLI and tests path)', async () => {
    const commits = await storeCommits(4);
    const r = relay(60_000);
    expect(await r.publishOnce()).toBe(4);
    expect(ids(await readTopic(4, 10_000))).toEqual(ids(commits));
    expect(await store.unpublished(100)).toEqual([]);
  });

  it('an append that failed between its outbox marker and its commit leaves the seq free; the marker goes once it is old', async () => {
    const [first, second] = chain(2);
    // The state a crash right after the marker insert leaves.
    await store.outbox.insertOne({ _id: `${first!.tenantId}:1`, tenantId: first!.tenantId, seq: 1, committedAt: first!.committedAt });
    const r = relay(60_000);
    expect(await r.publishOnce()).toBe(0); // nothing to publish, and the young marker stays (an append may be in flight)
    expect(await store.outbox.countDocuments({})).toBe(1);
    await store.append(first!); // the retry at the same seq finds the marker there: fine
    await store.append(second!);
    expect(await r.publishOnce()).toBe(2);
    expect(ids(await readTopic(2, 10_000))).toEqual(ids([first!, second!]));
    expect(await store.outbox.countDocuments({})).toBe(0);
    // A marker whose append never completed, decided long ago: the sweep deletes it.
    const [orphan] = chain(1, new Date(Date.now() - ORPHAN_MARKER_AGE_MS - 60_000).toISOString());
    await store.outbox.insertOne({ _id: `${orphan!.tenantId}:1`, tenantId: orphan!.tenantId, seq: 1, committedAt: orphan!.committedAt });
    expect(await r.publishOnce()).toBe(0);
    expect(await store.outbox.countDocuments({})).toBe(0);
  });

  it('a commit stored by a process that crashed before publishing is found through its marker', async () => {
    const commits = await storeCommits(3); // stored, never handed over to any relay
    expect((await store.unpublished(100)).map((c) => c._id)).toEqual(ids(commits));
    expect(await relay(60_000).publishOnce()).toBe(3);
    expect(ids(await readTopic(3, 10_000))).toEqual(ids(commits));
    expect(await store.commits.countDocuments({ published: false })).toBe(0);
    expect(await store.outbox.countDocuments({})).toBe(0);
  });

  it("a sweep raises the head hints its commits' writers did not (a crash after the commit) before publishing them", async () => {
    const commits = await storeCommits(3);
    const tenantId = commits[0]!.tenantId;
    await store.heads.updateOne({ _id: tenantId }, { $set: { seq: 1 } }); // the writer stopped before its last two hints
    expect(await relay(60_000).publishOnce()).toBe(3);
    expect((await store.headHints())?.get(tenantId)).toBe(3);
  });

  it('a published commit whose marker survived (crash before the delete) is not published again', async () => {
    const commits = await storeCommits(2);
    await store.commits.updateOne({ _id: `${commits[0]!.tenantId}:1` }, { $set: { published: true } });
    expect(await relay(60_000).publishOnce()).toBe(1);
    expect(ids(await readTopic(2, 3_000))).toEqual(ids(commits.slice(1)));
    expect(await store.outbox.countDocuments({})).toBe(0);
  });

  it('publishes the unpublished commits of a log written before the outbox existed, after a one-time backfill', async () => {
    const commits = chain(4);
    // What the old code stored: commits with `published`, no markers, no head hints.
    const docs: CommitDocument[] = commits.map((c) => ({ ...c, _id: `${c.tenantId}:${c.seq}`, published: c.seq <= 2 }));
    await db.collection<CommitDocument>(COMMITS).insertMany(docs);
    expect(await store.unpublished(100)).toEqual([]);
    expect(await relay(60_000).publishOnce()).toBe(2);
    expect(ids(await readTopic(2, 10_000))).toEqual(ids(commits.slice(2)));
    expect(await store.commits.countDocuments({ published: false })).toBe(0);
    expect(await store.backfillOutbox()).toBe(0); // once per store
    expect((await store.head(commits[0]!.tenantId))?.seq).toBe(4);
    expect(await store.tenantIds()).toEqual([commits[0]!.tenantId]); // the backfill gave the tenant its head hint
  });

  it('head is exact with a missing, stale or too high hint, and load reads a cold tenant of 150 commits', async () => {
    const commits = await storeCommits(150);
    const tenantId = commits[0]!.tenantId;
    expect((await store.head(tenantId))?.hash).toBe(commits[149]!.hash);
    for (const hint of [undefined, 1, 77, 149, 151, 10_000]) {
      if (hint === undefined) await store.heads.deleteOne({ _id: tenantId });
      else await store.heads.updateOne({ _id: tenantId }, { $set: { seq: hint } }, { upsert: true });
      expect([hint, (await store.head(tenantId))?.seq]).toEqual([hint, 150]);
    }
    expect(await store.head(uniqueName('none'))).toBeNull();
    const loaded = await store.load(tenantId);
    expect(loaded.map((c) => c.hash)).toEqual(commits.map((c) => c.hash));
    expect((await store.load(tenantId, 100, 120)).map((c) => c.seq)).toEqual(commits.slice(100, 120).map((c) => c.seq));
    expect(await store.load(tenantId, 150)).toEqual([]);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
