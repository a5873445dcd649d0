import { MongoClient, type Db } from 'mongodb';
import type { KeywardEvent } from '@keyward/domain';
import {
  CommitStore,
  GENESIS_HASH,
  guardedWritesFor,
  Projector,
  sealCommit,
  ViewCollections,
  type Commit,
  type GuardedWrites,
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

/** The projector's guarded view writes against the real FerretDB, in both ways of guarding. */
describe('projector guarded writes (real FerretDB)', () => {
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

  const projector = (mode: GuardedWrites): Projector => {
    const p = new Projector(views, store);
    p.useGuardedWrites(mode);
    return p;
  };
  const keyView = async (tenantId: string) => views.keys.findOne({ _id: `${tenantId}:${KEY}` });

  it('FerretDB is recognised: guards are checked by _id there', async () => {
    expect(await guardedWritesFor(db)).toBe('check-by-id');
  });

  it.each<GuardedWrites>(['filter', 'check-by-id'])('%s: builds the same views, checkpoint last', async (mode) => {
    const tenantId = uniqueName('tnt').replace(/[-.]/g, '_');
    const commits = chain(tenantId, rotated);
    const p = projector(mode);
    for (const c of commits) await p.apply([c]);
    expect(await keyView(tenantId)).toMatchObject({ state: 'Active', latestVersion: 2, appliedSeq: 3 });
    expect(await views.checkpoints.findOne({ _id: tenantId })).toMatchObject({ lastSeq: 3, lastHash: commits[2]!.hash });
    expect(await views.tenants.findOne({ _id: tenantId })).toMatchObject({ keyCount: 1 });
  });

  it.each<GuardedWrites>(['filter', 'check-by-id'])(
    '%s: a projector whose copy went stale does not overwrite what another one wrote after it',
    async (mode) => {
      const tenantId = uniqueName('tnt').replace(/[-.]/g, '_');
      const commits = chain(tenantId, rotated, deactivated);
      const stale = projector(mode);
      for (const c of commits.slice(0, 2)) await stale.apply([c]);
      // Another projector (after a rebalance) projects seq 3 and 4 first.
      await projector(mode).apply(commits.slice(2));
      expect(await keyView(tenantId)).toMatchObject({ state: 'Deactivated', appliedSeq: 4 });
      // The stale one still holds seq 2 and applies seq 3: the key's guarded write must fail (it
      // would bring back the Active key of seq 3); after reloading it sees seq 3 as a duplicate.
      expect(await stale.apply([commits[2]!])).toMatchObject({ applied: 0, duplicates: 1 });
      expect(await keyView(tenantId)).toMatchObject({ state: 'Deactivated', latestVersion: 2, appliedSeq: 4 });
      expect(await views.checkpoints.findOne({ _id: tenantId })).toMatchObject({ lastSeq: 4, lastHash: commits[3]!.hash });
    },
  );
});
