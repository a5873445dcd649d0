import { MongoServerError, type Db } from 'mongodb';
import { commitId, GENESIS_HASH, sealCommit, type Commit } from './commit';
import { COMMIT_HEADS, COMMIT_OUTBOX, COMMITS, CommitStore, ConcurrencyConflict, ORPHAN_MARKER_AGE_MS } from './commit-store';

type Doc = Record<string, unknown> & { _id: string };
interface Call {
  readonly collection: string;
  readonly op: string;
  readonly filter: unknown;
}

/**
 * A collection that answers only what FerretDB's SQLite backend serves through an index: a filter
 * on `_id` alone (any other filter throws), plus inserts and a plain read of a whole collection
 * (allowed for the outbox only, and `{published: false}` for the one-time backfill, which the
 * guard spec checks separately). Records every call, and how many reads were in flight at once.
 */
class FakeCollection {
  readonly docs = new Map<string, Doc>();
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    readonly name: string,
    private readonly calls: Call[],
  ) {}

  private pureId(op: string, filter: Record<string, unknown>): string {
    this.calls.push({ collection: this.name, op, filter });
    const keys = Object.keys(filter);
    if (keys.length !== 1 || keys[0] !== '_id' || typeof filter._id !== 'string') {
      throw new Error(`${this.name}.${op} with a filter that is not a pure _id: ${JSON.stringify(filter)}`);
    }
    return filter._id;
  }

  async findOne(filter: Record<string, unknown>): Promise<Doc | null> {
    const id = this.pureId('findOne', filter);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setImmediate(r));
    this.inFlight--;
    const doc = this.docs.get(id);
    return doc ? { ...doc } : null;
  }

  find(filter: Record<string, unknown>): {
    limit(n: number): { toArray(): Promise<Doc[]> };
    toArray(): Promise<Doc[]>;
    [Symbol.asyncIterator](): AsyncIterator<Doc>;
  } {
    this.calls.push({ collection: this.name, op: 'find', filter });
    const all = (): Doc[] =>
      [...this.docs.values()].filter((d) => Object.entries(filter).every(([k, v]) => d[k] === v)).map((d) => ({ ...d }));
    return {
      limit: (n: number) => ({ toArray: () => Promise.resolve(all().slice(0, n)) }),
      toArray: () => Promise.resolve(all()),
      [Symbol.asyncIterator]: () => {
        const docs = all();
        return { next: () => Promise.resolve(docs.length > 0 ? { value: docs.shift()!, done: false } : { value: undefined, done: true }) };
      },
    };
  }

  insertOne(doc: Doc): Promise<void> {
    this.calls.push({ collection: this.name, op: 'insertOne', filter: undefined });
    if (this.docs.has(doc._id)) return Promise.reject(new MongoServerError({ message: 'E11000 duplicate key', code: 11000 }));
    this.docs.set(doc._id, { ...doc });
    return Promise.resolve();
  }

  async insertMany(docs: Doc[]): Promise<{ insertedCount: number }> {
    for (const doc of docs) await this.insertOne(doc);
    return { insertedCount: docs.length };
  }

  updateOne(
    filter: Record<string, unknown>,
    update: { $set?: Record<string, unknown>; $max?: Record<string, number> },
    options?: { upsert?: boolean },
  ): Promise<void> {
    const id = this.pureId('updateOne', filter);
    const doc = this.docs.get(id) ?? (options?.upsert ? { _id: id } : undefined);
    if (!doc) return Promise.resolve();
    Object.assign(doc, update.$set);
    for (const [k, v] of Object.entries(update.$max ?? {})) if (typeof doc[k] !== 'number' || doc[k] < v) doc[k] = v;
    this.docs.set(id, doc);
    return Promise.resolve();
  }

  async bulkWrite(
    ops: (
      | {
          updateOne: {
            filter: Record<string, unknown>;
            update: { $set?: Record<string, unknown>; $max?: Record<string, number> };
            upsert?: boolean;
          };
        }
      | { deleteOne: { filter: Record<string, unknown> } }
    )[],
  ): Promise<void> {
    if (ops.length > 50) throw new Error(`${ops.length} statements in one command`);
    for (const op of ops) {
      if ('updateOne' in op) {
        this.calls.push({ collection: this.name, op: 'bulkWrite.updateOne', filter: op.updateOne.filter });
        const { filter, update, upsert } = op.updateOne;
        await this.updateOne(filter, update, { upsert: upsert === true });
        this.calls.pop(); // recorded once, as a bulk statement
      } else {
        this.docs.delete(this.pureId('bulkWrite.deleteOne', op.deleteOne.filter));
      }
    }
  }

  createIndex(): Promise<string> {
    return Promise.resolve('index');
  }
}

function fakeStore(): { store: CommitStore; calls: Call[]; collection: (name: string) => FakeCollection } {
  const calls: Call[] = [];
  const collections = new Map<string, FakeCollection>();
  const collection = (name: string): FakeCollection => {
    let c = collections.get(name);
    if (!c) collections.set(name, (c = new FakeCollection(name, calls)));
    return c;
  };
  return { store: new CommitStore({ collection } as unknown as Db), calls, collection };
}

const T = 'tnt_store00001';
const at = (minutesAgo = 0): string => new Date(Date.now() - minutesAgo * 60_000).toISOString();

function chain(tenantId: string, count: number, committedAt = at()): Commit[] {
  const commits: Commit[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const c = sealCommit({ tenantId, seq, commandId: `c${seq}`, events: [], committedAt, prevHash });
    commits.push(c);
    prevHash = c.hash;
  }
  return commits;
}

async function appendAll(store: CommitStore, commits: readonly Commit[]): Promise<void> {
  for (const c of commits) await store.append(c);
}

describe('CommitStore (query shapes: only pure _id reads and writes, inserts, and the outbox)', () => {
  it('serves every request-path and relay operation with pure _id filters, inserts and whole-outbox reads', async () => {
    const { store, calls } = fakeStore();
    await appendAll(store, chain(T, 20));
    await store.get(T, 3);
    await store.load(T);
    await store.load(T, 5, 12);
    await store.getMany([commitId(T, 1), commitId(T, 2)]);
    await store.head(T);
    await store.unpublished(100);
    await store.oldestUnpublished();
    await store.markPublished([commitId(T, 1)]);
    const shapes = new Set(
      calls.map((c) =>
        c.filter === undefined ? `${c.collection}.${c.op}` : `${c.collection}.${c.op}(${Object.keys(c.filter as object).join(',')})`,
      ),
    );
    for (const shape of shapes) {
      expect([
        `${COMMITS}.insertOne`,
        `${COMMIT_OUTBOX}.insertOne`,
        `${COMMIT_HEADS}.insertOne`,
        `${COMMITS}.findOne(_id)`,
        `${COMMIT_HEADS}.findOne(_id)`,
        `${COMMIT_HEADS}.updateOne(_id)`,
        `${COMMITS}.bulkWrite.updateOne(_id)`,
        `${COMMIT_OUTBOX}.bulkWrite.deleteOne(_id)`,
        `${COMMIT_OUTBOX}.find()`,
      ]).toContain(shape);
    }
  });
});

describe('CommitStore.append', () => {
  it('inserts the outbox marker before the commit, then raises the head hint', async () => {
    const { store, calls, collection } = fakeStore();
    const [c1] = chain(T, 1);
    await store.append(c1!);
    expect(calls.map((c) => `${c.collection}.${c.op}`)).toEqual([
      `${COMMIT_OUTBOX}.insertOne`,
      `${COMMIT_HEADS}.insertOne`, // the tenant's first commit: its hint goes first (tenantIds)
      `${COMMITS}.insertOne`,
      `${COMMIT_HEADS}.updateOne`,
    ]);
    expect(collection(COMMIT_OUTBOX).docs.get(commitId(T, 1))).toMatchObject({ tenantId: T, seq: 1 });
    expect(collection(COMMIT_HEADS).docs.get(T)).toEqual({ _id: T, seq: 1 });
  });

  it('a marker left by a failed attempt at the same seq does not stop the next append; a stored commit is a conflict', async () => {
    const { store, collection } = fakeStore();
    const [c1] = chain(T, 1);
    collection(COMMIT_OUTBOX).docs.set(commitId(T, 1), { _id: commitId(T, 1), tenantId: T, seq: 1, committedAt: at() });
    await store.append(c1!);
    expect(await store.get(T, 1)).toMatchObject({ hash: c1!.hash, published: false });
    await expect(store.append(c1!)).rejects.toBeInstanceOf(ConcurrencyConflict);
  });
});

describe('CommitStore.load', () => {
  it('reads a cold tenant of 300 commits in order, at most 8 reads in flight, in about 300/8 round trips', async () => {
    const { store, collection } = fakeStore();
    const commits = chain(T, 300);
    await appendAll(store, commits);
    const reads = collection(COMMITS);
    reads.maxInFlight = 0;
    const loaded = await store.load(T);
    expect(loaded.map((c) => c.seq)).toEqual(commits.map((c) => c.seq));
    expect(reads.maxInFlight).toBe(8);
  });

  it('costs one read when nothing is new, and stops at toSeq or the first missing seq', async () => {
    const { store, calls } = fakeStore();
    await appendAll(store, chain(T, 30));
    calls.length = 0;
    expect(await store.load(T, 30)).toEqual([]);
    expect(calls).toHaveLength(1);
    expect((await store.load(T, 10, 20)).map((c) => c.seq)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect((await store.load(T, 25, 1_000)).map((c) => c.seq)).toEqual([26, 27, 28, 29, 30]);
    expect(await store.load('tnt_other00001')).toEqual([]);
  });
});

describe('CommitStore.head', () => {
  const heads = (ctx: ReturnType<typeof fakeStore>): FakeCollection => ctx.collection(COMMIT_HEADS);

  it('answers from an exact hint with the hinted commit and the next one', async () => {
    const ctx = fakeStore();
    await appendAll(ctx.store, chain(T, 40));
    ctx.calls.length = 0;
    expect((await ctx.store.head(T))?.seq).toBe(40);
    expect(ctx.calls).toHaveLength(3);
  });

  it.each([
    ['missing (a log written before hints)', undefined],
    ['stale (an update lost to a race)', 7],
    ['beyond the log (commits dropped by a restore)', 500],
    ['zero', 0],
  ])('is exact whatever the hint says: %s, in O(log n) reads', async (_label, hint) => {
    const ctx = fakeStore();
    await appendAll(ctx.store, chain(T, 137));
    if (hint === undefined) heads(ctx).docs.delete(T);
    else heads(ctx).docs.set(T, { _id: T, seq: hint });
    ctx.calls.length = 0;
    expect((await ctx.store.head(T))?.seq).toBe(137);
    expect(ctx.calls.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(500)) + 3);
  });

  it('is null for a tenant without commits, whatever the hint', async () => {
    const ctx = fakeStore();
    expect(await ctx.store.head(T)).toBeNull();
    heads(ctx).docs.set(T, { _id: T, seq: 3 });
    expect(await ctx.store.head(T)).toBeNull();
  });
});

describe('CommitStore outbox (unpublished, oldestUnpublished, markPublished, backfill)', () => {
  it('answers unpublished commits per tenant in seq order from the markers, and markPublished empties the outbox', async () => {
    const { store, collection } = fakeStore();
    const a = chain('tnt_b', 3);
    const b = chain('tnt_a', 2);
    await appendAll(store, [a[0]!, b[0]!, a[1]!, b[1]!, a[2]!]);
    const found = await store.unpublished(100);
    expect(found.map((c) => c._id)).toEqual(['tnt_a:1', 'tnt_a:2', 'tnt_b:1', 'tnt_b:2', 'tnt_b:3']);
    expect((await store.unpublished(3)).map((c) => c._id)).toEqual(['tnt_a:1', 'tnt_a:2', 'tnt_b:1']);
    expect((await store.oldestUnpublished())?.committedAt).toBe(a[0]!.committedAt);
    await store.markPublished(found.map((c) => c._id));
    expect(collection(COMMIT_OUTBOX).docs.size).toBe(0);
    expect([...collection(COMMITS).docs.values()].every((d) => d.published === true)).toBe(true);
    expect(await store.unpublished(100)).toEqual([]);
    expect(await store.oldestUnpublished()).toBeNull();
  });

  it("holds back a tenant whose lower seq is unpublished but was not among the markers read (the topic keeps each tenant's order)", async () => {
    const { store, collection } = fakeStore();
    const cs = chain(T, 3);
    await appendAll(store, cs);
    collection(COMMIT_OUTBOX).docs.delete(commitId(T, 1)); // as if beyond the markers one sweep reads
    expect(await store.unpublished(100)).toEqual([]);
    await store.markPublished([commitId(T, 1)]);
    expect((await store.unpublished(100)).map((c) => c.seq)).toEqual([2, 3]);
  });

  it('drops the marker of a commit already published (crash before the delete) without answering it again', async () => {
    const { store, collection } = fakeStore();
    const [c1] = chain(T, 1);
    await store.append(c1!);
    collection(COMMITS).docs.get(commitId(T, 1))!.published = true;
    expect(await store.unpublished(100)).toEqual([]);
    expect(collection(COMMIT_OUTBOX).docs.size).toBe(0);
  });

  it('keeps a young marker without commit (an append in flight) and deletes an old one (a failed append)', async () => {
    const { store, collection } = fakeStore();
    const outbox = collection(COMMIT_OUTBOX);
    outbox.docs.set('tnt_young:1', { _id: 'tnt_young:1', tenantId: 'tnt_young', seq: 1, committedAt: at() });
    outbox.docs.set('tnt_old:1', { _id: 'tnt_old:1', tenantId: 'tnt_old', seq: 1, committedAt: at(ORPHAN_MARKER_AGE_MS / 60_000 + 1) });
    expect(await store.unpublished(100)).toEqual([]);
    expect(await store.oldestUnpublished()).toBeNull();
    expect([...outbox.docs.keys()]).toEqual(['tnt_young:1']);
  });

  it('gives a log written before the outbox its markers once, and later sweeps find its commits', async () => {
    const { store, collection, calls } = fakeStore();
    const commits = collection(COMMITS);
    const old = chain(T, 3, at(60));
    for (const c of old) commits.docs.set(commitId(T, c.seq), { ...c, _id: commitId(T, c.seq), published: c.seq === 1 });
    expect(await store.unpublished(100)).toEqual([]); // no markers: invisible to the sweep
    expect(await store.backfillOutbox()).toBe(2);
    expect(collection(COMMIT_HEADS).docs.get(T)).toEqual({ _id: T, seq: 3 });
    expect((await store.unpublished(100)).map((c) => c.seq)).toEqual([2, 3]);
    calls.length = 0;
    expect(await store.backfillOutbox()).toBe(0);
    expect(calls.map((c) => `${c.collection}.${c.op}`)).toEqual(['commit_log_meta.findOne']);
    await store.append(chain('tnt_new', 1)[0]!);
    expect(await store.tenantIds()).toEqual(['tnt_new', T]);
  });
});
