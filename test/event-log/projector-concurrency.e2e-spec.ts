import { MongoClient, type Collection, type Db, type Document } from 'mongodb';
import type { KeywardEvent } from '@keyward/domain';
import { CommitStore, GENESIS_HASH, Projector, sealCommit, tenantChecksum, ViewCollections, type Commit } from '@keyward/event-log';
import { testInfra, uniqueName } from '../support/env';

// Several projectors over real stores: seconds each on a loaded machine (the 5 s default is too short).
jest.setTimeout(60_000);

const actor = { principalId: 'prn_abcdefgh', role: 'tenant-admin' } as const;
const at = '2026-01-01T00:00:00.000Z';
const ev = (type: string, data: object): KeywardEvent => ({ type, data, actor, correlationId: 'r', at }) as KeywardEvent;
const keyId = (i: number) => `key_${String(i).padStart(9, '0')}`;

const created = (id: string): KeywardEvent[] => [
  ev('key.created.v1', {
    keyId: id,
    keyType: 'AES-256-GCM',
    description: '',
    labels: { team: 'a' },
    exportable: false,
    version: { version: 1, kcv: 'k1' },
  }),
  ev('key.activated.v1', { keyId: id, reason: 'requested' }),
];

function seal(tenantId: string, bodies: KeywardEvent[][]): Commit[] {
  let prev = GENESIS_HASH;
  return bodies.map((events, i) => {
    const c = sealCommit({ tenantId, seq: i + 1, commandId: `c${i}`, events, committedAt: at, prevHash: prev });
    prev = c.hash;
    return c;
  });
}

/** A collection whose next bulkWrite waits at a gate until released (to order two projectors' writes). */
function gated<T extends Document>(collection: Collection<T>) {
  let armed = false;
  let entered: () => void = () => undefined;
  let release: () => void = () => undefined;
  const reached = new Promise<void>((r) => (entered = r));
  const opened = new Promise<void>((r) => (release = r));
  const proxy = new Proxy(collection, {
    get(target, prop, receiver) {
      if (prop !== 'bulkWrite') return Reflect.get(target, prop, receiver) as unknown;
      return async (...args: Parameters<Collection<T>['bulkWrite']>) => {
        if (armed) {
          armed = false;
          entered();
          await opened;
        }
        return target.bulkWrite(...args);
      };
    },
  });
  return { proxy, arm: () => (armed = true), reached, release: () => release() };
}

/**
 * Two projectors writing one tenant at once (a rebalance overlap: the old owner still finishing a
 * batch while the new owner starts) on the real embedded store, where a conditional write is a read
 * then a write (FerretDB#3040). Each case ends by comparing the views with a fresh replay's checksum.
 */
describe('projector: concurrent writers of one tenant (real FerretDB)', () => {
  let client: MongoClient;
  let db: Db;
  let views: ViewCollections;
  let store: CommitStore;

  beforeAll(async () => {
    client = new MongoClient(testInfra().mongoUri);
    await client.connect();
  });
  beforeEach(async () => {
    db = client.db(uniqueName('concurrent').replace(/[-.]/g, '_'));
    views = new ViewCollections(db);
    store = new CommitStore(db);
    await Promise.all([views.ensureIndexes(), store.ensureIndexes()]);
  });
  afterEach(() => db.dropDatabase());
  afterAll(() => client.close());

  const projector = (over?: Partial<Pick<ViewCollections, 'keys'>>): Projector => {
    const target = new ViewCollections(db);
    if (over?.keys) Object.defineProperty(target, 'keys', { value: over.keys });
    return new Projector(target, store);
  };

  /** The checksum of the tenant's views built by one projector from the whole log, in another database. */
  async function freshReplay(tenantId: string, commits: readonly Commit[]): Promise<string> {
    const scratch = client.db(uniqueName('fresh').replace(/[-.]/g, '_'));
    try {
      const fresh = new ViewCollections(scratch);
      await fresh.ensureIndexes();
      await new Projector(fresh, store).apply(commits);
      return await tenantChecksum(fresh, tenantId);
    } finally {
      await scratch.dropDatabase();
    }
  }

  it("a stale projector's write that lands after a newer one's does not leave an older view behind", async () => {
    const tenantId = uniqueName('tnt').replace(/[-.]/g, '_');
    const key = keyId(1);
    const commits = seal(tenantId, [
      [ev('tenant.onboarded.v1', { tenantId, name: 'A' })],
      created(key),
      [ev('key.rotated.v1', { keyId: key, version: { version: 2, kcv: 'k2' } })],
      [ev('key.deactivated.v1', { keyId: key, reason: 'requested' })],
    ]);
    for (const c of commits) await store.append(c);

    // The old owner has projected seq 1-2 and is writing seq 3 when the partition moves on.
    const gate = gated(views.keys);
    const old = projector({ keys: gate.proxy });
    await old.apply(commits.slice(0, 2));
    gate.arm();
    const oldBatch = old.apply([commits[2]!]);
    await gate.reached;
    // The new owner projects seq 3 and 4 while the old owner's write of seq 3 is in flight.
    await projector().apply(commits.slice(2));
    gate.release();
    await oldBatch;

    expect(await views.keys.findOne({ _id: `${tenantId}:${key}` })).toMatchObject({
      state: 'Deactivated',
      latestVersion: 2,
      appliedSeq: 4,
    });
    expect(await views.checkpoints.findOne({ _id: tenantId })).toMatchObject({ lastSeq: 4, lastHash: commits[3]!.hash });
    // The next change folds from what is stored: it must not bring the key back from seq 3.
    const next = seal(tenantId, [
      ...commits.map((c) => [...c.events]),
      [ev('key.rotated.v1', { keyId: key, version: { version: 3, kcv: 'k3' } })],
    ]);
    await store.append(next[4]!);
    await projector().apply([next[4]!]);
    expect(await tenantChecksum(views, tenantId)).toBe(await freshReplay(tenantId, next));
  });

  it('several projectors applying overlapping batches of one tenant at once converge on the fresh replay', async () => {
    const tenantId = uniqueName('tnt').replace(/[-.]/g, '_');
    const bodies: KeywardEvent[][] = [[ev('tenant.onboarded.v1', { tenantId, name: 'A' })]];
    for (let i = 0; i < 4; i++) bodies.push(created(keyId(i)));
    const versions = [1, 1, 1, 1];
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 4; i++) {
        const version = (versions[i] = versions[i]! + (round % 3 === 2 ? 0 : 1));
        bodies.push(
          round % 3 === 2
            ? [ev('key.labels-changed.v1', { keyId: keyId(i), set: { round: String(round) }, removed: [] })]
            : [ev('key.rotated.v1', { keyId: keyId(i), version: { version, kcv: `k${version}` } })],
        );
      }
    }
    const commits = seal(tenantId, bodies);
    for (const c of commits) await store.append(c);

    // Four instances; each applies the log in its own slicing, from the start, all at once
    // (every batch after the first is what a new owner would be redelivered).
    const slicings = [1, 2, 3, 5];
    await Promise.all(
      slicings.map(async (size) => {
        const p = projector();
        for (let i = 0; i < commits.length; i += size) {
          await p.apply(commits.slice(i, i + size));
          if (i % (size * 4) === 0) p.reset(); // a rebalance: reload from the store
        }
      }),
    );
    expect(await views.checkpoints.findOne({ _id: tenantId })).toMatchObject({ lastSeq: commits.length });
    expect(await tenantChecksum(views, tenantId)).toBe(await freshReplay(tenantId, commits));
  });
});
