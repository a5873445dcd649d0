import { testInfra } from '../support/env';
import { KeywardStack } from '../support/keyward-stack';
import { MongoCommandTap, type TappedCommand } from '../support/mongo-command-tap';

jest.setTimeout(240_000);

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const keysOf = (c: TappedCommand): string[] => Object.keys(c.filter ?? {}).sort();

/**
 * Issue 15: the audit queries and the checkpoint pass asked the store questions no index answers
 * on the embedded default (a tenant's commits by event fields, `distinct` over every commit, a
 * tenant's checkpoints by tenantId): each decoded the whole collection. Every command the services
 * send goes through a tap here, and the shapes are checked.
 */
describe("audit and checkpoints read a tenant's data by id (real key-api, Kafka and FerretDB)", () => {
  let tap: MongoCommandTap;
  let stack: KeywardStack;
  let admin: string;
  let auditor: string;
  let keyId: string;
  let tenantId: string;

  beforeAll(async () => {
    tap = await MongoCommandTap.start(testInfra().mongoUri);
    stack = new KeywardStack({ mongoUri: tap.uri });
    stack.env.AUDIT_CHECKPOINT_INTERVAL_MS = '500';
    await stack.start();
    const tenant = await stack.onboard('Audited');
    admin = tenant.adminKey;
    tenantId = tenant.tenantId;
    auditor = await stack.principal(admin, 'auditor');
    keyId = (await stack.call(admin, 'POST', '/v1/keys', { activate: true })).json<{ key: { keyId: string } }>().key.keyId;
    expect((await stack.call(admin, 'POST', `/v1/keys/${keyId}/rotate`)).status).toBe(200);
    // Checkpoints of the head follow the stream.
    await stack.api.waitFor(async () => {
      const head = (await stack.call(auditor, 'GET', '/v1/audit/verify')).json<{ headSeq: number }>().headSeq;
      const items = (await stack.call(auditor, 'GET', '/v1/audit/checkpoints')).json<{ items: { seq: number }[] }>().items;
      return items[0]?.seq === head;
    }, 60_000);
  });
  afterAll(async () => {
    await stack.stop();
    await tap.stop();
  });

  it('key history, events, checkpoints and verify: no commit query by event fields or seq lists, checkpoints only by _id', async () => {
    tap.reset();
    expect((await stack.call(auditor, 'GET', `/v1/audit/events?keyId=${keyId}`)).status).toBe(200);
    expect((await stack.call(auditor, 'GET', `/v1/audit/events?type=key`)).status).toBe(200);
    const listed = await stack.call(auditor, 'GET', '/v1/audit/checkpoints?limit=1');
    expect(listed.status).toBe(200);
    const cursor = listed.json<{ nextCursor: string | null }>().nextCursor;
    if (cursor !== null) expect((await stack.call(auditor, 'GET', `/v1/audit/checkpoints?limit=1&cursor=${cursor}`)).status).toBe(200);
    const verified = await stack.call(auditor, 'GET', '/v1/audit/verify');
    expect(verified.json<{ ok: boolean; checkpoints: { checked: number } }>()).toMatchObject({ ok: true });
    expect(verified.json<{ checkpoints: { checked: number } }>().checkpoints.checked).toBeGreaterThan(0);

    const commitShapes = tap.commands.filter((c) => c.collection === 'commits').map(keysOf);
    expect(commitShapes.length).toBeGreaterThan(0);
    expect(commitShapes.filter((keys) => keys.some((k) => k.startsWith('events') || k === '$or' || k === 'committedAt'))).toEqual([]);
    const checkpointShapes = tap.commands.filter((c) => c.collection === 'checkpoints' || c.collection === 'checkpoint_keys').map(keysOf);
    expect(checkpointShapes.filter((keys) => keys.join() !== '_id')).toEqual([]);
    expect(tap.commands.filter((c) => c.name === 'distinct')).toEqual([]);
  });

  it('checkpoints written before heads and links are linked once at start: the list and verify answer the same', async () => {
    const list = async () =>
      (await stack.call(auditor, 'GET', '/v1/audit/checkpoints?limit=100')).json<{ items: { seq: number; hash: string }[] }>().items;
    const before = await list();
    expect(before.length).toBeGreaterThan(0);
    await stack.api.stop();
    // As a store written by the previous version: no heads, no links.
    await stack.db.collection('checkpoint_heads').deleteMany({});
    await stack.db.collection('checkpoints').updateMany({}, { $unset: { prevSeq: '' } });
    stack.api = await stack.startApi();
    await stack.api.waitFor(
      async () => (await stack.db.collection('checkpoint_heads').findOne({ _id: '~linked' as never })) !== null,
      60_000,
    );
    const after = await list();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(await stack.db.collection('checkpoints').countDocuments({ prevSeq: { $exists: false } })).toBe(0);
    const verified = (await stack.call(auditor, 'GET', '/v1/audit/verify')).json<{ ok: boolean; checkpoints: { checked: number } }>();
    expect(verified.ok).toBe(true);
    expect(verified.checkpoints.checked).toBeGreaterThanOrEqual(before.length);
  });

  it('an idle stack runs checkpoint and scheduler passes without a distinct over the commits or a scan of the key views', async () => {
    tap.reset();
    await pause(21_000); // forty checkpoint passes and two scheduler passes (10 s apart)
    expect(tap.commands.filter((c) => c.name === 'distinct')).toEqual([]);
    // Nor does the agenda's refill (REFILL_AFTER_MS after start, maybe in the window): it reads view_due.
    expect(tap.commands.filter((c) => c.collection === 'view_keys' && keysOf(c).includes('$or'))).toEqual([]);
    expect(tap.commands.filter((c) => c.collection === 'checkpoints' && keysOf(c).join() !== '_id')).toEqual([]);
  });

  it('a restarted key-api checkpoints the tenants whose log moved past their last checkpoint, and reads nothing of the others', async () => {
    const moved = await stack.onboard('Moved while stopped');
    const seqOf = async (collection: string, id: string) =>
      (await stack.db.collection<{ _id: string; seq: number }>(collection).findOne({ _id: id }))?.seq;
    const checkpointedAtHead = async (id: string) => (await seqOf('checkpoint_heads', id)) === (await seqOf('commit_heads', id));
    await stack.api.waitFor(() => checkpointedAtHead(moved.tenantId), 60_000);
    await stack.api.waitFor(() => checkpointedAtHead(tenantId), 60_000);
    await stack.api.stop();
    // As if its last commits had been written while no key-api followed the stream: no checkpoint covers them.
    await stack.db.collection('checkpoint_heads').deleteOne({ _id: moved.tenantId as never });
    await stack.db.collection('checkpoints').deleteMany({ tenantId: moved.tenantId });
    tap.reset();
    stack.api = await stack.startApi();
    await stack.api.waitFor(() => checkpointedAtHead(moved.tenantId), 60_000);
    await pause(2_000); // forty passes more
    // The unchanged tenant's head is never probed (before, a start looked at every tenant: O(deployment)).
    expect(tap.commands.filter((c) => c.collection === 'commit_heads' && c.filter?._id === tenantId)).toEqual([]);
    expect(
      tap.commands.filter(
        (c) => c.collection === 'commits' && typeof c.filter?._id === 'string' && c.filter._id.startsWith(`${tenantId}:`),
      ),
    ).toEqual([]);
  });
});
