import { MongoClient, type Db } from 'mongodb';
import { Lease } from '@keyward/event-log';
import { testInfra, uniqueName } from '../support/env';

/** The lease against the real store: one holder per term, whatever each process remembers. */
describe('lease (real FerretDB)', () => {
  const TTL = 10_000;
  let client: MongoClient;
  let db: Db;
  /** Commands each spec sends, to show that a held term is not asked about again. */
  let commands: string[];

  beforeAll(async () => {
    client = new MongoClient(testInfra().mongoUri, { monitorCommands: true });
    await client.connect();
    client.on('commandStarted', (event) => commands.push(event.commandName));
  });
  beforeEach(() => {
    commands = [];
    db = client.db(uniqueName('lease').replace(/[-.]/g, '_'));
  });
  afterEach(async () => {
    await db.dropDatabase();
  });
  afterAll(() => client.close());

  const at = (term: number, fraction = 0.1): number => (term + fraction) * TTL;
  const T = 200_000_000;

  it('one of two contenders holds a term; the other keeps being refused for it', async () => {
    const a = new Lease(db, 'relay', TTL);
    const b = new Lease(db, 'relay', TTL);
    expect(await a.acquire(at(T))).toBe(true);
    expect(await b.acquire(at(T))).toBe(false);
    expect(await b.acquire(at(T, 0.2))).toBe(false);
    expect(await a.acquire(at(T, 0.2))).toBe(true);
  });

  it('a held term costs no store round trip on later passes; renewal claims the next term once', async () => {
    const a = new Lease(db, 'relay', TTL);
    expect(await a.acquire(at(T))).toBe(true);
    commands = [];
    for (let i = 0; i < 5; i++) expect(await a.acquire(at(T, 0.1 + i * 0.05))).toBe(true);
    expect(commands).toEqual([]);
    expect(await a.acquire(at(T, 0.6))).toBe(true); // second half: renews ahead
    expect(commands).toContain('insert');
    commands = [];
    expect(await a.acquire(at(T, 0.7))).toBe(true);
    expect(await a.acquire(at(T + 1, 0.1))).toBe(true); // the renewed term, known without asking
    expect(commands.filter((c) => c === 'insert' || c === 'find')).toEqual([]);
    const b = new Lease(db, 'relay', TTL);
    expect(await b.acquire(at(T + 1, 0.1))).toBe(false);
  });

  it("a holder that stops renewing loses the lease at its term's end, and the other takes over", async () => {
    const a = new Lease(db, 'relay', TTL);
    const b = new Lease(db, 'relay', TTL);
    expect(await a.acquire(at(T))).toBe(true); // first half only: no renewal, then "crashes"
    expect(await b.acquire(at(T, 0.9))).toBe(false);
    expect(await b.acquire(at(T + 1, 0.05))).toBe(true);
    expect(await a.acquire(at(T + 1, 0.1))).toBe(false);
  });

  it('release gives the lease up: the cache is dropped with the documents', async () => {
    const a = new Lease(db, 'relay', TTL);
    const b = new Lease(db, 'relay', TTL);
    expect(await a.acquire(at(T))).toBe(true);
    await a.release();
    expect(await b.acquire(at(T, 0.2))).toBe(true);
    expect(await a.acquire(at(T, 0.3))).toBe(false);
  });
});
