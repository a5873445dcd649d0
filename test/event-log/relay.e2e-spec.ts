import { Kafka, logLevel } from 'kafkajs';
import { MongoClient, type Db } from 'mongodb';
import { CommitStore, fromMessage, GENESIS_HASH, Lease, Relay, sealCommit, type Commit } from '@keyward/event-log';
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

  /** Stores `count` commits of a fresh tenant (a valid chain), as the command executor does. */
  const storeCommits = async (count: number): Promise<Commit[]> => {
    const tenantId = uniqueName('ten').replace(/[-.]/g, '_');
    const commits: Commit[] = [];
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= count; seq++) {
      const commit = sealCommit({ tenantId, seq, commandId: `c${seq}`, events: [], committedAt: new Date().toISOString(), prevHash });
      await store.append(commit);
      commits.push(commit);
      prevHash = commit.hash;
    }
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
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
