import { EncryptionCounts, type MaterialRef } from '@keyward/crypto';
import { MongoClient, type Db } from 'mongodb';
import { testInfra, uniqueName } from '../support/env';

jest.setTimeout(180_000);

/**
 * Issue 15: the AES-GCM encryption budget (EncryptionCounts.reserve) from several clients (key-api
 * and kmip instances) at once, on the store the suite runs on (FerretDB by default, real mongod
 * with KEYWARD_STORE=mongodb). No reservation may be lost or handed out twice: the total reserved
 * is an upper bound of the encryptions made with the version, and two instances holding the same
 * range would together exceed the budget. An `$inc` upsert is not atomic on FerretDB (its issue
 * 3040: it loses increments under concurrent clients), so reservations are ranges decided by unique
 * inserts, which are atomic on both stores.
 */
describe('encryption budget reservations under concurrent clients (real store)', () => {
  const CLIENTS = 4;
  const PER_CLIENT = 15;
  const BLOCK = 1000;
  const clients: MongoClient[] = [];
  let dbs: Db[];
  let name: string;

  beforeAll(async () => {
    name = uniqueName('atomic').replace(/[-.]/g, '_');
    for (let i = 0; i < CLIENTS; i++) clients.push(await MongoClient.connect(testInfra().mongoUri, { maxPoolSize: 8 }));
    dbs = clients.map((c) => c.db(name));
  });
  afterAll(async () => {
    await dbs[0]?.dropDatabase();
    await Promise.all(clients.map((c) => c.close()));
  });

  const ref = (): MaterialRef => ({ tenantId: 'tnt_atomic', keyId: uniqueName('key'), version: 1 });

  it(`${CLIENTS} clients x ${PER_CLIENT} concurrent reservations of one fresh version: every range is reserved once, back to back`, async () => {
    const version = ref();
    const counts = dbs.map((db) => new EncryptionCounts(db));
    const ends = await Promise.all(counts.flatMap((c) => Array.from({ length: PER_CLIENT }, () => c.reserve(version, BLOCK))));
    // Each reservation answers the end of its own range [end - BLOCK, end): all distinct, and together
    // exactly 0..total, so no range was given twice and none was lost.
    const sorted = [...ends].sort((a, b) => a - b);
    expect(sorted).toEqual(Array.from({ length: CLIENTS * PER_CLIENT }, (_, i) => (i + 1) * BLOCK));
    for (const c of counts) expect(await c.reserved(version)).toBe(CLIENTS * PER_CLIENT * BLOCK);
  });

  it('ranges of different sizes from several clients do not overlap, and the total is their sum', async () => {
    const version = ref();
    const counts = dbs.map((db) => new EncryptionCounts(db));
    const sizes = counts.flatMap((_, i) => Array.from({ length: 10 }, (__, j) => 1 + ((i * 10 + j) % 7) * 100));
    const ranges = await Promise.all(
      sizes.map(async (size, k) => {
        const end = await counts[k % CLIENTS]!.reserve(version, size);
        return [end - size, end] as const;
      }),
    );
    ranges.sort((a, b) => a[0] - b[0]);
    let expected = 0;
    for (const [start, end] of ranges) {
      expect(start).toBe(expected);
      expected = end;
    }
    expect(expected).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(await counts[0]!.reserved(version)).toBe(expected);
  });

  it('a version counted by an $inc before ranges goes on from that count', async () => {
    const version = ref();
    const counts = new EncryptionCounts(dbs[0]!);
    await counts.collection.insertOne({ _id: `${version.tenantId}:${version.keyId}:1`, ...version, reserved: 5 * BLOCK });
    expect(await counts.reserve(version, BLOCK)).toBe(6 * BLOCK);
    expect(await counts.reserved(version)).toBe(6 * BLOCK);
  });

  it('refuses a reservation of no encryptions', async () => {
    await expect(new EncryptionCounts(dbs[0]!).reserve(ref(), 0)).rejects.toThrow(RangeError);
  });
});
