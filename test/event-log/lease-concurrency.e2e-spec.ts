import { MongoClient } from 'mongodb';
import { Lease } from '@keyward/event-log';
import { testInfra, uniqueName } from '../support/env';

jest.setTimeout(180_000);

/**
 * Issue 15: conditional updates are not atomic on the embedded store (FerretDB#3040), and must not
 * be able to corrupt a lease. Eight takers on four connections race for the same lease on the real
 * store, at the same instants and at instants of their own, term after term.
 */
describe('lease under concurrent takers (real FerretDB)', () => {
  const TTL = 2_000;
  const CLIENTS = 4;
  const PER_CLIENT = 2;
  const TERMS = 25;
  const T0 = 900_000_000;
  const at = (term: number, fraction: number): number => Math.floor((term + fraction) * TTL);
  let clients: MongoClient[] = [];
  let dbName: string;

  beforeAll(async () => {
    dbName = uniqueName('lease_race').replace(/[-.]/g, '_');
    clients = await Promise.all(Array.from({ length: CLIENTS }, () => MongoClient.connect(testInfra().mongoUri)));
  });
  afterAll(async () => {
    await clients[0]?.db(dbName).dropDatabase();
    await Promise.all(clients.map((c) => c.close()));
  });

  const takers = (name: string): Lease[] =>
    clients.flatMap((c) => Array.from({ length: PER_CLIENT }, () => new Lease(c.db(dbName), name, TTL)));

  it('at every instant at most one taker believes it holds the lease, and every term has one holder only', async () => {
    const leases = takers('race-same-instant');
    const holderOfTerm = new Map<number, Set<string>>();
    for (let term = T0; term < T0 + TERMS; term++) {
      for (const fraction of [0.05, 0.3, 0.55, 0.8, 0.95]) {
        const held = await Promise.all(leases.map((lease) => lease.acquire(at(term, fraction))));
        const holders = leases.filter((_, i) => held[i]);
        expect(holders.length).toBeLessThanOrEqual(1);
        for (const lease of holders) {
          expect(lease.heldTerm).toBe(term);
          const owners = holderOfTerm.get(term) ?? new Set<string>();
          owners.add(lease.owner);
          holderOfTerm.set(term, owners);
        }
      }
    }
    for (let term = T0; term < T0 + TERMS; term++) expect(holderOfTerm.get(term)?.size).toBe(1);
  });

  it('takers at instants of their own within a term never hold it together; a silent holder is followed by exactly one', async () => {
    const leases = takers('race-own-instants');
    const holderOfTerm = new Map<number, Set<string>>();
    let silent: Lease | undefined;
    for (let term = T0; term < T0 + TERMS; term++) {
      // Each taker asks at its own instant of the term (the same spread every term, shuffled by term).
      const tries = leases.map((lease, i) => ({ lease, fraction: ((i * 7 + term) % leases.length) / leases.length + 0.01 }));
      // Every fifth term the holder stops asking (a crash): its term lapses and another takes the next.
      const asking = tries.filter((t) => t.lease !== silent);
      const held = await Promise.all(asking.map(async (t) => ((await t.lease.acquire(at(term, t.fraction))) ? t.lease : undefined)));
      const holders = new Set(held.filter((l): l is Lease => l !== undefined).map((l) => l.owner));
      expect(holders.size).toBeLessThanOrEqual(1);
      for (const owner of holders) holderOfTerm.set(term, (holderOfTerm.get(term) ?? new Set()).add(owner));
      silent = term % 5 === 0 ? held.find((l) => l !== undefined) : undefined;
    }
    for (const [, owners] of holderOfTerm) expect(owners.size).toBe(1);
    // Only a term the silent holder had renewed ahead goes without an asking holder (one in five at most).
    expect(holderOfTerm.size).toBeGreaterThanOrEqual(TERMS - Math.ceil(TERMS / 5));
  });

  /**
   * The holder deletes its terms older than `term - 1` as it renews, so a taker whose clock runs two or
   * more terms behind inserts the deleted term's document again and holds that past term while the
   * holder holds the current one. The lease fences by time only as well as the takers' clocks agree
   * within a term (30 s for the scheduler, 5 s for the relay); the scheduler also passes the business
   * clock (KEYWARD_CLOCK_OFFSET_MS in tests). The lease's head (the newest term renewed into,
   * raised before old terms are deleted) makes such a past term unclaimable.
   */
  it('a taker whose clock lags two terms behind does not hold the lease while the holder holds it', async () => {
    const [holder, laggard] = takers('race-lagging-clock');
    expect(await holder!.acquire(at(T0, 0.1))).toBe(true);
    expect(await holder!.acquire(at(T0, 0.6))).toBe(true); // renews T0 + 1
    expect(await holder!.acquire(at(T0 + 1, 0.6))).toBe(true); // renews T0 + 2
    expect(await holder!.acquire(at(T0 + 2, 0.6))).toBe(true); // renews T0 + 3, deletes terms below T0 + 1
    const laggardHolds = await laggard!.acquire(at(T0, 0.7)); // its clock: two terms behind
    expect(laggardHolds).toBe(false);
  });
});
