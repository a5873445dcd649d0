import { MongoClient, type Collection, type Db } from 'mongodb';
import { testInfra, uniqueName } from '../support/env';
import { expectIndexed, judgeExplain } from '../support/query-plan';

interface CommitLike {
  _id: string;
  tenantId: string;
  seq: number;
}

/**
 * `_id` operations are index-served on the configured store (FerretDB with infra/ferretdb's `_id`
 * index, or MongoDB), including on a collection created moments before; anything else is not, on
 * FerretDB, and the helper says so.
 */
// Connecting to a replica set (test:mongodb) can take longer than jest's 5 s hook default under load.
jest.setTimeout(60_000);

describe('query plans of the store (real store)', () => {
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    client = await MongoClient.connect(testInfra().mongoUri);
    db = client.db(uniqueName('plans').replace(/[-.]/g, '_'));
  });
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  const seed = async (name: string): Promise<Collection<CommitLike>> => {
    const c = db.collection<CommitLike>(name);
    await c.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: `tnt_a:${i + 1}`, tenantId: 'tnt_a', seq: i + 1 })));
    return c;
  };

  it('findOne, updateOne and deleteOne by _id on a collection the same moment created by an insert', async () => {
    const c = await seed(uniqueName('commits'));
    for (const op of ['find', 'update', 'delete'] as const) await expectIndexed(c, { _id: 'tnt_a:7' }, op);
  });

  it('a collection created explicitly (still empty), and one recreated after a drop', async () => {
    await db.createCollection('views');
    await expectIndexed(db.collection<CommitLike>('views'), { _id: 'tnt_a:1' });

    const c = await seed(uniqueName('recreated'));
    await c.drop();
    await c.insertOne({ _id: 'tnt_a:1', tenantId: 'tnt_a', seq: 1 });
    for (const op of ['find', 'update', 'delete'] as const) await expectIndexed(c, { _id: 'tnt_a:1' }, op);
  });

  it('the operations still do what they say through the index', async () => {
    const c = await seed(uniqueName('ops'));
    await c.updateOne({ _id: 'tnt_a:3' }, { $set: { seq: 30 } });
    await c.replaceOne({ _id: 'tnt_a:4' }, { tenantId: 'tnt_a', seq: 40 });
    await c.deleteOne({ _id: 'tnt_a:5' });
    expect(await c.findOne({ _id: 'tnt_a:3' })).toEqual({ _id: 'tnt_a:3', tenantId: 'tnt_a', seq: 30 });
    expect(await c.findOne({ _id: 'tnt_a:4' })).toEqual({ _id: 'tnt_a:4', tenantId: 'tnt_a', seq: 40 });
    expect(await c.findOne({ _id: 'tnt_a:5' })).toBeNull();
    expect(await c.countDocuments()).toBe(19);
  });

  it('a filter on an unindexed field is not index-served, and the helper fails', async () => {
    const c = await seed(uniqueName('scan'));
    await expect(expectIndexed(c, { tenantId: 'tnt_a' }, 'find', { withinMs: 0 })).rejects.toThrow(/is not index-served/);
  });

  it('_id plus another field: MongoDB reads the _id index (FETCH <- IXSCAN), FerretDB does not push it down', async () => {
    const c = await seed(uniqueName('idplus'));
    const { store } = await expectIndexed(c, { _id: 'tnt_a:1' });
    const plus = expectIndexed(c, { _id: 'tnt_a:1', seq: 1 }, 'update', { withinMs: 0 });
    if (store === 'ferretdb') await expect(plus).rejects.toThrow(/is not index-served/);
    else expect((await plus).detail).toMatch(/IXSCAN/);
  });
});

/** The verdicts on explain answers of both stores (the shapes MongoDB 7/8 and FerretDB 1.24 send). */
describe('judging explain answers', () => {
  const ferret = (filterPushdown: boolean, ...detail: string[]) => ({
    queryPlanner: { Plan: detail.map((d, i) => `id=${i + 2} parent=0 notused=0 detail=${d}`) },
    filterPushdown,
    sortPushdown: false,
    limitPushdown: false,
    ok: 1,
  });
  const mongo = (winningPlan: object) => ({ queryPlanner: { namespace: 'kw.commits', winningPlan, rejectedPlans: [] }, ok: 1 });

  it.each([
    ['FerretDB SQLite index search', ferret(true, 'SEARCH commits_1 USING INDEX keyward_sjson_id__commits_1 (<expr>=?)'), true],
    ['FerretDB table scan', ferret(false, 'SCAN commits_1'), false],
    ['FerretDB pushdown without an index', ferret(true, 'SCAN commits_1'), false],
    ['MongoDB IDHACK', mongo({ stage: 'IDHACK' }), true],
    ['MongoDB 8 express path', mongo({ stage: 'EXPRESS_IXSCAN', keyPattern: '{ _id: 1 }' }), true],
    ['MongoDB update by _id', mongo({ stage: 'UPDATE', inputStage: { stage: 'IDHACK' } }), true],
    ['MongoDB FETCH <- IXSCAN', mongo({ stage: 'FETCH', inputStage: { stage: 'IXSCAN', indexName: 'tenantId_1' } }), true],
    ['MongoDB slot-based plan', mongo({ queryPlan: { stage: 'FETCH', inputStage: { stage: 'IXSCAN' } }, slotBasedPlan: {} }), true],
    ['MongoDB COLLSCAN', mongo({ stage: 'COLLSCAN', filter: { tenantId: { $eq: 'a' } } }), false],
    ['MongoDB delete over a COLLSCAN', mongo({ stage: 'DELETE', inputStage: { stage: 'COLLSCAN' } }), false],
    [
      'MongoDB OR with a COLLSCAN branch',
      mongo({ stage: 'SUBPLAN', inputStage: { stage: 'OR', inputStages: [{ stage: 'IXSCAN' }, { stage: 'COLLSCAN' }] } }),
      false,
    ],
  ])('%s', (_name, explain, indexed) => {
    expect(judgeExplain(explain).indexed).toBe(indexed);
  });
});
