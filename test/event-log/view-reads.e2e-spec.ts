import { MongoClient, type CommandStartedEvent, type Db } from 'mongodb';
import type { KeywardEvent } from '@keyward/domain';
import { CommitStore, GENESIS_HASH, Projector, sealCommit, ViewCollections, type Commit } from '@keyward/event-log';
import { ViewReader } from '../../services/key-api/src/platform/view-reader';
import { testInfra, uniqueName } from '../support/env';

const actor = { principalId: 'prn_abcdefgh', role: 'tenant-admin' } as const;
const at = '2026-01-01T00:00:00.000Z';
const ev = (type: string, data: object): KeywardEvent => ({ type, data, actor, correlationId: 'r', at }) as KeywardEvent;
const keyId = (i: number) => `key_${String(i).padStart(9, '0')}`;

/** A tenant with `keys` keys (every third one labelled, every fourth deactivated, key 5 aliased) and two principals. */
function tenantLog(tenantId: string, keys: number): Commit[] {
  const bodies: KeywardEvent[][] = [
    [
      ev('tenant.onboarded.v1', { tenantId, name: tenantId }),
      ev('principal.created.v1', { principalId: 'prn_admin0001', name: 'admin', role: 'tenant-admin' }),
      ev('principal.created.v1', { principalId: 'prn_user00001', name: 'user', role: 'key-user' }),
    ],
  ];
  for (let i = 0; i < keys; i++) {
    bodies.push([
      ev('key.created.v1', {
        keyId: keyId(i),
        keyType: 'AES-256-GCM',
        description: '',
        labels: i % 3 === 0 ? { team: 'blue' } : {},
        exportable: false,
        version: { version: 1, kcv: 'k1' },
        ...(i === 5 ? { alias: 'payments' } : {}),
      }),
      ev('key.activated.v1', { keyId: keyId(i), reason: 'requested' }),
      ...(i % 4 === 0 ? [ev('key.deactivated.v1', { keyId: keyId(i), reason: 'requested' })] : []),
    ]);
  }
  let prev = GENESIS_HASH;
  return bodies.map((events, i) => {
    const c = sealCommit({ tenantId, seq: i + 1, commandId: `c${i}`, events, committedAt: at, prevHash: prev });
    prev = c.hash;
    return c;
  });
}

/**
 * What reading the views costs on the embedded store: FerretDB's SQLite backend serves a filter
 * that is `_id` alone from its index and decodes the whole collection for anything else, so lists,
 * alias lookups and the projector's loading of a tenant may only read views by `_id`.
 */
describe('view reads by _id only (real FerretDB)', () => {
  let client: MongoClient;
  let db: Db;
  let views: ViewCollections;
  let store: CommitStore;
  const seen: CommandStartedEvent[] = [];

  beforeAll(async () => {
    client = new MongoClient(testInfra().mongoUri, { monitorCommands: true });
    client.on('commandStarted', (e) => seen.push(e));
    await client.connect();
  });
  beforeEach(async () => {
    db = client.db(uniqueName('viewreads').replace(/[-.]/g, '_'));
    views = new ViewCollections(db);
    store = new CommitStore(db);
    await Promise.all([views.ensureIndexes(), store.ensureIndexes()]);
  });
  afterEach(() => db.dropDatabase());
  afterAll(() => client.close());

  /** The filters of the reads of view collections made while `fn` runs. */
  async function viewReads(fn: () => Promise<unknown>): Promise<unknown[]> {
    seen.length = 0;
    await fn();
    return seen
      .filter((e) => e.databaseName === db.databaseName && e.commandName === 'find' && String(e.command.find).startsWith('view_'))
      .map((e) => e.command.filter as unknown);
  }
  const byIdOnly = (filter: unknown): boolean =>
    typeof filter === 'object' &&
    filter !== null &&
    Object.keys(filter).length === 1 &&
    typeof (filter as { _id?: unknown })._id === 'string';

  async function project(tenantId: string, keys: number): Promise<Commit[]> {
    const commits = tenantLog(tenantId, keys);
    for (const c of commits) await store.append(c);
    await new Projector(views, store).apply(commits);
    return commits;
  }

  it('lists keys (filters, cursor), finds a key by alias and lists principals with _id reads only, with the same answers', async () => {
    const tenantId = uniqueName('tnt').replace(/[-.]/g, '_');
    await project(tenantId, 12);
    await project(uniqueName('other').replace(/[-.]/g, '_'), 3); // another tenant's views beside it
    const reader = new ViewReader(views, {} as never, {} as never);

    let pages: string[][] = [];
    const reads = await viewReads(async () => {
      pages = [];
      for (let cursor: string | undefined, more = true; more;) {
        const page = await reader.keys(tenantId, {}, 5, cursor);
        pages.push(page.items.map((k) => k.keyId));
        cursor = page.nextCursor ?? undefined;
        more = page.nextCursor !== null;
      }
    });
    expect(pages).toEqual([[0, 1, 2, 3, 4].map(keyId), [5, 6, 7, 8, 9].map(keyId), [10, 11].map(keyId)]);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.filter((f) => !byIdOnly(f))).toEqual([]);

    const filtered = await viewReads(async () => {
      const page = await reader.keys(tenantId, { state: 'Active', label: { name: 'team', value: 'blue' } }, 10, undefined);
      expect(page).toMatchObject({
        items: [3, 6, 9].map((i) => ({ keyId: keyId(i), state: 'Active', labels: { team: 'blue' } })),
        nextCursor: null,
      });
      const after = await reader.keys(tenantId, { state: 'Deactivated' }, 1, keyId(0));
      expect(after).toMatchObject({ items: [{ keyId: keyId(4) }], nextCursor: keyId(4) });
      expect(await reader.keys(tenantId, { alias: 'payments' }, 10, undefined)).toMatchObject({
        items: [{ keyId: keyId(5) }],
        nextCursor: null,
      });
    });
    expect(filtered.filter((f) => !byIdOnly(f))).toEqual([]);

    const alias = await viewReads(async () => {
      expect(await reader.keyByAlias(tenantId, 'payments')).toMatchObject({ keyId: keyId(5), alias: 'payments' });
      expect(await reader.keyByAlias(tenantId, 'nothing')).toBeNull();
    });
    expect(alias.filter((f) => !byIdOnly(f))).toEqual([]);

    const principals = await viewReads(async () => {
      const first = await reader.principals(tenantId, 1, undefined);
      expect(first).toMatchObject({ items: [{ principalId: 'prn_admin0001' }], nextCursor: 'prn_admin0001' });
      expect(await reader.principals(tenantId, 1, 'prn_admin0001')).toMatchObject({
        items: [{ principalId: 'prn_user00001' }],
        nextCursor: null,
      });
    });
    expect(principals.filter((f) => !byIdOnly(f))).toEqual([]);
  });

  it('the projector loads a tenant it has not cached with _id reads of the views only', async () => {
    const tenantId = uniqueName('tnt').replace(/[-.]/g, '_');
    const commits = await project(tenantId, 6);
    const next = sealCommit({
      tenantId,
      seq: commits.length + 1,
      commandId: 'next',
      events: [ev('key.rotated.v1', { keyId: keyId(1), version: { version: 2, kcv: 'k2' } })],
      committedAt: at,
      prevHash: commits.at(-1)!.hash,
    });
    await store.append(next);
    const reads = await viewReads(() => new Projector(views, store).apply([next]));
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.filter((f) => !byIdOnly(f))).toEqual([]);
    expect(await views.keys.findOne({ _id: `${tenantId}:${keyId(1)}` })).toMatchObject({ latestVersion: 2, appliedSeq: next.seq });
    expect(await views.tenants.findOne({ _id: tenantId })).toMatchObject({ keyCount: 6, keysByState: { Active: 4, Deactivated: 2 } });
  });

  it('a tenant whose index would outgrow its bound has none: lists fall back to the query, loads replay the log', async () => {
    const tenantId = uniqueName('tnt').replace(/[-.]/g, '_');
    const commits = tenantLog(tenantId, 6);
    for (const c of commits) await store.append(c);
    const bounded = () => new Projector(views, store, 2_000, 200);
    await bounded().apply(commits);
    expect(await views.indexes.findOne({ _id: tenantId })).toBeNull();
    const next = sealCommit({
      tenantId,
      seq: commits.length + 1,
      commandId: 'next',
      events: [ev('key.deactivated.v1', { keyId: keyId(1), reason: 'requested' })],
      committedAt: at,
      prevHash: commits.at(-1)!.hash,
    });
    await store.append(next);
    await bounded().apply([next]);
    expect(await views.indexes.findOne({ _id: tenantId })).toBeNull();
    const reader = new ViewReader(views, {} as never, {} as never);
    expect((await reader.keys(tenantId, { state: 'Deactivated' }, 10, undefined)).items.map((k) => k.keyId)).toEqual([0, 1, 4].map(keyId));
    expect(await reader.keyByAlias(tenantId, 'payments')).toMatchObject({ keyId: keyId(5) });
    expect(await views.tenants.findOne({ _id: tenantId })).toMatchObject({ keyCount: 6, keysByState: { Active: 3, Deactivated: 3 } });
  });
});
