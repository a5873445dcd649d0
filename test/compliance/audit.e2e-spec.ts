import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointPayload, CSV_COLUMNS, parseCsv, sealCommit, verifyCheckpoint, type CommitDocument } from '@keyward/event-log';
import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer } from '../support/service-process';

jest.setTimeout(300_000);

interface AuditEvent {
  tenantId: string;
  seq: number;
  index: number;
  type: string;
  actor: { principalId: string; role: string };
  at: string;
  correlationId: string;
  commitHash: string;
  data: Record<string, unknown>;
}
interface Verified {
  ok: boolean;
  headSeq: number;
  headHash: string;
  verifiedThroughSeq: number;
  fromSeq: number;
  kafka: { messages: number; publishedThroughSeq: number };
  checkpoints: { checked: number };
  firstBadSeq?: number;
  problem?: string;
  detail?: string;
  problems?: { seq: number; problem: string }[];
}
interface KeyState {
  keyId: string;
  state: string;
  latestVersion: number;
  versions: { version: number }[];
}
interface PastState {
  seq: number;
  hash: string;
  tenant: { status: string } | null;
  keys: KeyState[];
  principals: { principalId: string }[];
}
interface Checkpoint {
  tenantId: string;
  seq: number;
  hash: string;
  at: string;
  keyId: string;
  alg: string;
  signature: string;
  payload: string;
}

const problemType = (answer: HttpAnswer): string => answer.json<{ type: string }>().type.replace('urn:keyward:problem:', '');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('compliance: verify, replay to an instant, export, signed checkpoints (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  let tenantId: string;
  let admin: string;
  let bob: string;
  let auditor: string;
  let user: string;

  const ok = async (answer: Promise<HttpAnswer>, status = 200): Promise<HttpAnswer> => {
    const a = await answer;
    expect([a.status, a.status === status ? '' : a.body]).toEqual([status, '']);
    return a;
  };
  const verify = async (as: string, query = ''): Promise<Verified> =>
    (await ok(stack.call(as, 'GET', `/v1/audit/verify${query}`))).json<Verified>();
  const allEvents = async (as: string, query = '', limit = 1000): Promise<AuditEvent[]> => {
    const items: AuditEvent[] = [];
    let cursor: string | null = null;
    do {
      const sep = query === '' ? '?' : '&';
      const page: { items: AuditEvent[]; nextCursor: string | null } = (
        await ok(stack.call(as, 'GET', `/v1/audit/events${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`))
      ).json();
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return items;
  };
  const commits = () => stack.db.collection<CommitDocument>('commits');
  const published = (tenant: string) =>
    stack.api.waitFor(async () => (await commits().countDocuments({ tenantId: tenant, published: false })) === 0, 30_000);
  const createKey = async (body: Record<string, unknown>, as = admin) =>
    (await ok(stack.call(as, 'POST', '/v1/keys', body), 201)).json<{ seq: number; key: KeyState }>();

  beforeAll(async () => {
    stack.env.AUDIT_CHECKPOINT_INTERVAL_MS = '500';
    await stack.start();
    ({ tenantId, adminKey: admin } = await stack.onboard("Audited & O'Brien"));
    auditor = await stack.principal(admin, 'auditor');
    user = await stack.principal(admin, 'key-user');
    bob = await stack.principal(admin, 'tenant-admin'); // from now on, destruction needs a second admin
  });
  afterAll(() => stack.stop());

  it('verify passes on a real history: every link from genesis, no gap, and Kafka holds the same hashes', async () => {
    const key = await createKey({ activate: true, alias: 'ledger', description: '<img src=x onerror=alert(1)> "quoted", and more' });
    await ok(stack.call(admin, 'POST', `/v1/keys/${key.key.keyId}/rotate`));
    await ok(stack.call(admin, 'POST', `/v1/keys/${key.key.keyId}/deactivate`));
    const pending = await ok(stack.call(admin, 'POST', `/v1/keys/${key.key.keyId}/schedule-destruction`, { waitingPeriodDays: 3 }), 202);
    const approvalId = pending.json<{ pendingApproval: { approvalId: string } }>().pendingApproval.approvalId;
    await ok(stack.call(bob, 'POST', `/v1/approvals/${approvalId}/approve`));
    await published(tenantId);

    const result = await verify(auditor);
    const head = await commits().find({ tenantId }).sort({ seq: -1 }).limit(1).next();
    expect(result).toMatchObject({ ok: true, fromSeq: 1, headSeq: head!.seq, headHash: head!.hash, verifiedThroughSeq: head!.seq });
    expect(result.kafka).toMatchObject({ publishedThroughSeq: head!.seq });
    expect(result.kafka.messages).toBeGreaterThanOrEqual(head!.seq);
    expect(result.firstBadSeq).toBeUndefined();
    // The same for the tenant-admin and the provider (who names the tenant); never a key-user.
    expect((await verify(admin)).ok).toBe(true);
    expect((await verify(stack.providerKey, `?tenantId=${tenantId}`)).ok).toBe(true);
    expect((await stack.call(user, 'GET', '/v1/audit/verify')).status).toBe(403);
  });

  it('lists every event once, in order, with a stable cursor; filters by key (approvals included), type, seq and time', async () => {
    const all = await allEvents(auditor);
    const stored = await commits().find({ tenantId }).sort({ seq: 1 }).toArray();
    expect(all.map((e) => [e.seq, e.index, e.type])).toEqual(stored.flatMap((c) => c.events.map((e, index) => [c.seq, index, e.type])));
    expect(all.every((e) => e.tenantId === tenantId && e.commitHash === stored[e.seq - 1]!.hash)).toBe(true);
    expect(await allEvents(auditor, '', 3)).toEqual(all);

    const keyId = all.find((e) => e.type === 'key.created.v1')!.data.keyId as string;
    const history = await allEvents(auditor, `?keyId=${keyId}`);
    expect(history.map((e) => e.type)).toEqual([
      'key.created.v1',
      'key.activated.v1',
      'key.rotated.v1',
      'key.deactivated.v1',
      'approval.requested.v1',
      'approval.granted.v1',
      'key.destruction-scheduled.v1',
      'approval.executed.v1',
    ]);
    const executed = history.at(-1)!;
    expect(executed.data).toMatchObject({ requestedBy: { role: 'tenant-admin' }, approvedBy: [{ role: 'tenant-admin' }] });
    // Each principal: created, its enrollment token issued, and its own redemption.
    const principalEvents = (await allEvents(auditor, '?type=principal')).map((e) => e.type);
    expect(principalEvents.filter((t) => t === 'principal.created.v1')).toHaveLength(4);
    expect(principalEvents.filter((t) => t === 'principal.enrolled.v1')).toHaveLength(4);
    expect(principalEvents.every((t) => t.startsWith('principal.'))).toBe(true);
    expect((await allEvents(auditor, '?fromSeq=2&toSeq=3')).map((e) => e.seq)).toEqual(
      all.filter((e) => e.seq >= 2 && e.seq <= 3).map((e) => e.seq),
    );
    const rotated = all.find((e) => e.type === 'key.rotated.v1')!;
    const at = encodeURIComponent(rotated.at);
    expect((await allEvents(auditor, `?from=${at}&to=${at}`)).map((e) => e.type)).toEqual(['key.rotated.v1']);
    const bad = await stack.call(auditor, 'GET', '/v1/audit/events?cursor=../../x');
    expect([bad.status, problemType(bad)]).toEqual([400, 'validation']);
  });

  it('state?at returns the past state exactly: create → rotate → deactivate, queried between each', async () => {
    const seen: { at: string; key: KeyState | undefined; seq: number }[] = [];
    const snapshot = async (keyId: string | undefined, seq: number) => {
      const view = keyId ? (await ok(stack.call(admin, 'GET', `/v1/keys/${keyId}?minSeq=${seq}`))).json<KeyState>() : undefined;
      await pause(15);
      seen.push({ at: new Date().toISOString(), key: view, seq });
      await pause(15);
    };
    const before = (await commits().find({ tenantId }).sort({ seq: -1 }).limit(1).next())!.seq;
    await snapshot(undefined, before);
    const created = await createKey({ alias: 'timeline', labels: { team: 'audit' } });
    const keyId = created.key.keyId;
    await snapshot(keyId, created.seq);
    await ok(stack.call(admin, 'POST', `/v1/keys/${keyId}/activate`));
    const rotated = (await ok(stack.call(admin, 'POST', `/v1/keys/${keyId}/rotate`))).json<{ seq: number }>();
    await snapshot(keyId, rotated.seq);
    const deactivated = (await ok(stack.call(admin, 'POST', `/v1/keys/${keyId}/deactivate`))).json<{ seq: number }>();
    await snapshot(keyId, deactivated.seq);

    for (const moment of seen) {
      const past = (await ok(stack.call(auditor, 'GET', `/v1/audit/state?at=${encodeURIComponent(moment.at)}`))).json<PastState>();
      expect(past.seq).toBe(moment.seq);
      const key = past.keys.find((k) => k.keyId === keyId);
      // Exactly what the live view said at that moment, history and versions included.
      expect(key).toEqual(moment.key);
    }
    expect(seen.map((s) => s.key?.state)).toEqual([undefined, 'PreActive', 'Active', 'Deactivated']);
    expect(seen.map((s) => s.key?.latestVersion)).toEqual([undefined, 1, 2, 2]);

    const beginning = (await ok(stack.call(auditor, 'GET', '/v1/audit/state?at=2000-01-01T00:00:00Z'))).json<PastState>();
    expect(beginning).toMatchObject({ seq: 0, tenant: null, keys: [], principals: [] });
    const now = (
      await ok(stack.call(auditor, 'GET', `/v1/audit/state?at=${encodeURIComponent(new Date().toISOString())}`))
    ).json<PastState>();
    expect(now.tenant).toMatchObject({ status: 'Active' });
    expect(now.principals).toHaveLength(4);
    expect((await stack.call(auditor, 'GET', '/v1/audit/state?at=yesterday')).status).toBe(400);
  });

  it('exports JSON Lines and CSV that parse and match the events, and a printable, escaped HTML report', async () => {
    const events = await allEvents(auditor);
    const jsonl = await ok(stack.call(auditor, 'GET', '/v1/audit/export?format=jsonl'));
    expect(jsonl.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(jsonl.headers['content-disposition']).toMatch(/^attachment; filename="keyward-.*\.jsonl"$/);
    expect(Number(jsonl.headers['x-keyward-head-seq'])).toBe(events.at(-1)!.seq);
    const lines = jsonl.body.trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l) as AuditEvent)).toEqual(events);

    const csv = await ok(stack.call(auditor, 'GET', '/v1/audit/export?format=csv'));
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...rows] = parseCsv(csv.body);
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(events.length);
    rows.forEach((row, i) => {
      const e = events[i]!;
      const record = Object.fromEntries(header!.map((name, j) => [name, row[j]]));
      expect(record).toEqual({
        tenantId: e.tenantId,
        seq: String(e.seq),
        index: String(e.index),
        at: e.at,
        type: e.type,
        actorPrincipalId: e.actor.principalId,
        actorRole: e.actor.role,
        correlationId: e.correlationId,
        keyId: (e.data.keyId as string | undefined) ?? (e.data.command as { keyId?: string } | undefined)?.keyId ?? '',
        commitHash: e.commitHash,
        data: JSON.stringify(e.data),
      });
    });
    const filtered = await ok(stack.call(auditor, 'GET', '/v1/audit/export?format=jsonl&type=key.rotated'));
    expect(
      filtered.body
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as AuditEvent).type),
    ).toEqual(events.filter((e) => e.type === 'key.rotated.v1').map((e) => e.type));

    const from = encodeURIComponent(events[0]!.at);
    const html = await ok(stack.call(auditor, 'GET', `/v1/audit/export?format=html&from=${from}`));
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(html.body).toMatch(/^<!DOCTYPE html>/);
    expect(html.body).toContain('@media print');
    expect(html.body).toContain('Audited &#38; O&#39;Brien');
    expect(html.body).not.toContain('<img src=x');
    expect(html.body).not.toMatch(/<script/i);
    expect(html.body).toContain('&#60;img src=x onerror=alert(1)&#62; &#34;quoted&#34;');
    expect(html.body).toMatch(/The hash chain verifies from the genesis hash through commit \d+/);
    for (const key of (await ok(stack.call(auditor, 'GET', '/v1/keys?limit=200'))).json<{ items: KeyState[] }>().items) {
      expect(html.body).toContain(key.keyId);
    }
    expect(html.body).toContain('approved by');
    const notAPeriod = await stack.call(auditor, 'GET', '/v1/audit/export?format=html&type=key');
    expect([notAPeriod.status, problemType(notAPeriod)]).toEqual([400, 'validation']);
  });

  it('signs checkpoints of every chain head; signatures verify with the published key; verify?since proves append-only', async () => {
    const head = (await commits().find({ tenantId }).sort({ seq: -1 }).limit(1).next())!;
    let checkpoint: Checkpoint | undefined;
    await stack.api.waitFor(async () => {
      const page = (await stack.call(auditor, 'GET', '/v1/audit/checkpoints')).json<{ items: Checkpoint[] }>();
      checkpoint = page.items.find((c) => c.seq === head.seq);
      return checkpoint !== undefined;
    }, 30_000);
    expect(checkpoint).toMatchObject({ tenantId, seq: head.seq, hash: head.hash, alg: 'Ed25519' });
    expect(checkpoint!.payload).toBe(checkpointPayload(checkpoint!));

    const published = await stack.api.get('/v1/audit/public-key'); // public: no credentials needed
    expect(published.status).toBe(200);
    const keys = published.json<{ current: string; keys: { keyId: string; pem: string; jwk: Record<string, string> }[] }>();
    const signer = keys.keys.find((k) => k.keyId === checkpoint!.keyId)!;
    expect(keys.current).toBe(signer.keyId);
    expect(
      verifySignature(null, Buffer.from(checkpoint!.payload), createPublicKey(signer.pem), Buffer.from(checkpoint!.signature, 'base64url')),
    ).toBe(true);
    expect(verifyCheckpoint(checkpoint!, createPublicKey({ key: signer.jwk, format: 'jwk' }))).toBe(true);
    expect(verifyCheckpoint({ ...checkpoint!, seq: checkpoint!.seq + 1 }, signer.pem)).toBe(false);

    // The private key lives in the data folder (0600), never in MongoDB.
    const keyFile = join(stack.dataDir, 'audit-signing.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const privatePem = readFileSync(keyFile, 'utf8');
    const secret = privatePem.split('\n')[1]!;
    for (const info of await stack.db.listCollections().toArray()) {
      const dump = JSON.stringify(await stack.db.collection(info.name).find({}).toArray());
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain('PRIVATE KEY');
    }

    // The history grows; the old checkpoint still anchors it.
    await createKey({});
    const since = await verify(auditor, `?since=${checkpoint!.seq}&hash=${checkpoint!.hash}`);
    expect(since).toMatchObject({
      ok: true,
      fromSeq: checkpoint!.seq,
      verifiedThroughSeq: checkpoint!.seq + 1,
      headSeq: checkpoint!.seq + 1,
    });
    const forged = await verify(auditor, `?since=${checkpoint!.seq}&hash=${'0'.repeat(64)}`);
    expect(forged).toMatchObject({ ok: false, firstBadSeq: checkpoint!.seq, problem: 'checkpoint-mismatch' });
    const beyond = await verify(auditor, `?since=${checkpoint!.seq + 50}&hash=${checkpoint!.hash}`);
    expect(beyond).toMatchObject({ ok: false, firstBadSeq: checkpoint!.seq + 50, problem: 'missing-commit' });
    expect((await stack.call(auditor, 'GET', `/v1/audit/verify?since=${checkpoint!.seq}`)).status).toBe(400);
  });

  it('verify pinpoints the seq of a commit altered directly in MongoDB, even re-sealed, and of a removed one', async () => {
    const victim = await stack.onboard('Tampered');
    for (let i = 0; i < 4; i++) await createKey({ description: `key ${i}` }, victim.adminKey);
    await published(victim.tenantId);
    expect((await verify(stack.providerKey, `?tenantId=${victim.tenantId}`)).ok).toBe(true);
    const id = (seq: number) => `${victim.tenantId}:${seq}`;
    const original = (await commits().findOne({ _id: id(3) }))!;
    const asVictim = (query = '') => verify(victim.adminKey, query);

    // 1. An event's data changed, hash left alone: the commit no longer hashes to its hash.
    await commits().updateOne({ _id: id(3) }, { $set: { 'events.0.data.description': 'forged' } });
    expect(await asVictim()).toMatchObject({ ok: false, firstBadSeq: 3, verifiedThroughSeq: 2, problem: 'hash-mismatch' });
    const state = await stack.call(victim.adminKey, 'GET', `/v1/audit/state?at=${encodeURIComponent(new Date().toISOString())}`);
    expect([state.status, problemType(state), state.json<{ firstBadSeq: number }>().firstBadSeq]).toEqual([409, 'chain-broken', 3]);

    // 2. Re-sealed by someone who recomputed its hash: the next link breaks, and Kafka remembers the old hash.
    const forgedEvents = original.events.map((e, i) =>
      i === 0 ? { ...e, data: { ...e.data, description: 'forged' } } : e,
    ) as typeof original.events;
    const { tenantId: t, seq, commandId, committedAt, prevHash } = original;
    const resealed = sealCommit({ tenantId: t, seq, commandId, events: forgedEvents, committedAt, prevHash });
    await commits().updateOne({ _id: id(3) }, { $set: { events: resealed.events, hash: resealed.hash } });
    const rewritten = await asVictim();
    expect(rewritten).toMatchObject({ ok: false, firstBadSeq: 3, problem: 'kafka-mismatch' });
    expect(rewritten.problems).toEqual(expect.arrayContaining([expect.objectContaining({ seq: 4, problem: 'broken-link' })]));

    await commits().replaceOne({ _id: id(3) }, original);
    expect((await asVictim()).ok).toBe(true);

    // 3. A commit removed from the middle, then the head removed.
    const fourth = (await commits().findOne({ _id: id(4) }))!;
    await commits().deleteOne({ _id: id(4) });
    expect(await asVictim()).toMatchObject({ ok: false, firstBadSeq: 4, verifiedThroughSeq: 3, problem: 'missing-commit' });
    await commits().insertOne(fourth);
    const head = (await commits().find({ tenantId: victim.tenantId }).sort({ seq: -1 }).limit(1).next())!;
    await commits().deleteOne({ _id: head._id });
    const truncated = await asVictim();
    expect(truncated).toMatchObject({ ok: false, firstBadSeq: head.seq, headSeq: head.seq - 1, verifiedThroughSeq: head.seq - 1 });
    expect(truncated.detail).toMatch(/missing from the store/);
    await commits().insertOne(head);
    expect((await asVictim()).ok).toBe(true);
  });

  it('reads crypto usage of the tenant from the usage topic', async () => {
    const key = (await createKey({ activate: true })).key.keyId;
    for (let i = 0; i < 3; i++) await ok(stack.call(user, 'POST', `/v1/keys/${key}/encrypt`, { plaintext: 'aGk=' }));
    let records: { keyId: string; operation: string; outcome: string; role: string }[] = [];
    await stack.api.waitFor(
      async () => {
        const answer = (await ok(stack.call(auditor, 'GET', `/v1/audit/usage?keyId=${key}`))).json<{
          items: typeof records;
          truncated: boolean;
        }>();
        records = answer.items;
        return records.length >= 3;
      },
      30_000,
      500,
    );
    expect(records).toHaveLength(3);
    expect(records.every((r) => r.keyId === key && r.operation === 'encrypt' && r.outcome === 'ok' && r.role === 'key-user')).toBe(true);
    const later = await ok(
      stack.call(auditor, 'GET', `/v1/audit/usage?keyId=${key}&from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`),
    );
    expect(later.json<{ items: unknown[] }>().items).toEqual([]);
  });

  it('keeps tenants apart: another tenant answers 404, key-users 403, provider-admins audit anyone and their own log', async () => {
    const other = await stack.onboard('Elsewhere');
    const otherAuditor = await stack.principal(other.adminKey, 'auditor');
    for (const path of ['/v1/audit/events', '/v1/audit/verify', '/v1/audit/checkpoints', '/v1/audit/export']) {
      const answer = await stack.call(otherAuditor, 'GET', `${path}?tenantId=${tenantId}`);
      expect([path, answer.status, problemType(answer)]).toEqual([path, 404, 'not-found']);
      expect((await stack.call(user, 'GET', path)).status).toBe(403);
    }
    const own = await allEvents(otherAuditor);
    expect(own.every((e) => e.tenantId === other.tenantId)).toBe(true);
    const provider = await allEvents(stack.providerKey);
    expect(provider[0]).toMatchObject({ tenantId: 'provider', type: 'principal.created.v1' });
    const unknown = await stack.call(stack.providerKey, 'GET', '/v1/audit/events?tenantId=tnt_doesnotexist');
    expect(unknown.status).toBe(404);
  });
});
