import { randomUUID } from 'node:crypto';
import { KeywardStack } from '../support/keyward-stack';
import { PrivateKafka } from '../support/private-kafka';
import type { HttpAnswer } from '../support/service-process';
import { readUsage, type UsageRecord } from '../support/usage-topic';

jest.setTimeout(600_000);

// Finding 11: the usage audit failed open. With the broker away, records go to the MongoDB outbox
// (usage_outbox) and reach the topic when it returns; when neither can take more of a tenant's
// records, that tenant's crypto is refused (503 audit-unavailable) before it runs; one tenant's
// flood never pushes out another tenant's records. The broker is the spec's own (it is stopped).
describe('usage audit while Kafka is away (private broker)', () => {
  let kafka: PrivateKafka;
  let stack: KeywardStack;
  const tenants: Record<'a' | 'b', { user: string; key: string; tenantId: string; accepted: string[]; refused: string[] }> = {
    a: { user: '', key: '', tenantId: '', accepted: [], refused: [] },
    b: { user: '', key: '', tenantId: '', accepted: [], refused: [] },
  };
  let refusal: HttpAnswer | undefined;
  let outboxWhileAway = 0;
  let floodAccepted = 0;

  /** One encrypt of tenant `t` under a request id of ours; kept in `accepted` (200) or `refused` (503). */
  async function encrypt(t: 'a' | 'b'): Promise<HttpAnswer> {
    const requestId = `usage-${t}-${randomUUID()}`;
    const answer = await stack.api.request('POST', `/v1/keys/${tenants[t].key}/encrypt`, {
      headers: { authorization: `Bearer ${tenants[t].user}`, 'x-request-id': requestId },
      body: { plaintext: Buffer.from('audited').toString('base64') },
    });
    if (answer.status === 200) tenants[t].accepted.push(requestId);
    else if (answer.status === 503) tenants[t].refused.push(requestId);
    else throw new Error(`encrypt of ${t}: ${answer.status} ${answer.body}`);
    return answer;
  }

  beforeAll(async () => {
    kafka = await PrivateKafka.start();
    stack = new KeywardStack({ brokers: kafka.brokers });
    // Tiny bounds: 20 records of a tenant in memory, 60 in the outbox.
    Object.assign(stack.env, { USAGE_BACKLOG_MAX: '20', USAGE_OUTBOX_MAX: '60', USAGE_BUFFER_MAX: '100', USAGE_FLUSH_MS: '100' });
    await stack.start();
    for (const t of ['a', 'b'] as const) {
      const { adminKey, tenantId } = await stack.onboard(`Usage ${t}`);
      tenants[t].tenantId = tenantId;
      tenants[t].user = await stack.principal(adminKey, 'key-user');
      tenants[t].key = (await stack.call(adminKey, 'POST', '/v1/keys', { activate: true })).json<{ key: { keyId: string } }>().key.keyId;
    }
    for (let i = 0; i < 5; i++) for (const t of ['a', 'b'] as const) expect((await encrypt(t)).status).toBe(200);

    await kafka.verb('stop');
    for (let i = 0; i < 10; i++) expect((await encrypt('b')).status).toBe(200);
    // Tenant a floods until refused (or 400 operations, far beyond every bound).
    // Paced (25 ms apart, four a flush) so that the outbox lane can take memory as it fills: a burst
    // faster than one flush would meet the memory bound (20) before any flush, which is the bound
    // doing its job, not the outbox's.
    for (let i = 0; i < 400 && refusal === undefined; i++) {
      const answer = await encrypt('a');
      if (answer.status === 503) refusal = answer;
      else floodAccepted++;
      await new Promise((r) => setTimeout(r, 25));
    }
    outboxWhileAway = await stack.db.collection('usage_outbox').countDocuments();
    for (let i = 0; i < 10; i++) expect((await encrypt('b')).status).toBe(200);

    await kafka.verb('start');
    // Tenant a works again once its backlog drained (a refused attempt leaves no record).
    for (const deadline = Date.now() + 180_000; Date.now() < deadline;) {
      if ((await encrypt('a')).status === 200) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    for (let i = 0; i < 5; i++) for (const t of ['a', 'b'] as const) expect((await encrypt(t)).status).toBe(200);
  });
  afterAll(async () => {
    await stack.stop().catch(() => undefined);
    await kafka.destroy();
  });

  it('keeps encrypting while the broker is away, storing the records in the outbox', () => {
    expect(floodAccepted).toBeGreaterThan(20);
    expect(outboxWhileAway).toBeGreaterThan(0);
  });

  it('refuses crypto of a tenant whose records nothing can take with 503 audit-unavailable, and serves it again once drained', () => {
    expect(refusal).toBeDefined();
    expect(refusal!.status).toBe(503);
    expect(refusal!.headers['retry-after']).toMatch(/^\d+$/);
    const problem = refusal!.json<{ type: string; status: number; ciphertext?: string }>();
    expect(problem).toMatchObject({ type: 'urn:keyward:problem:audit-unavailable', status: 503 });
    expect(problem.ciphertext).toBeUndefined();
    // Bounded: at most the outbox share, the memory bound and its headroom, and one more flush.
    expect(floodAccepted).toBeLessThan(60 + 2 * 20);
    expect(tenants.a.accepted.length).toBe(5 + floodAccepted + 1 + 5);
    expect(tenants.b.refused).toEqual([]);
  });

  it('a graceful stop while the broker is away keeps memory in the outbox, and the next instance drains it', async () => {
    await kafka.verb('stop');
    for (let i = 0; i < 5; i++) expect((await encrypt('b')).status).toBe(200);
    // (The exit code is not the point: other shutdown hooks may outlast the grace period while the
    // broker is away. The usage audit stores its memory first.)
    await stack.api.stop();
    const stored = await stack.db.collection<{ records: { requestId: string }[] }>('usage_outbox').find({}).toArray();
    const storedIds = new Set(stored.flatMap((d) => d.records.map((r) => r.requestId)));
    expect(tenants.b.accepted.slice(-5).filter((id) => !storedIds.has(id))).toEqual([]);
    stack.api = await stack.startApi();
    await kafka.verb('start');
    expect((await encrypt('b')).status).toBe(200);
  });

  it('delivers the record of every accepted operation of every tenant to the topic, in order, none of a refused one', async () => {
    const expected = tenants.a.accepted.length + tenants.b.accepted.length;
    const records = await readUsage(stack.env.KAFKA_TOPIC_USAGE!, expected, 120_000, [kafka.brokers]);
    const byRequest = new Map<string, UsageRecord[]>();
    for (const record of records) byRequest.set(record.requestId, [...(byRequest.get(record.requestId) ?? []), record]);
    // Tenant a's flood pushed out none of tenant b's records (the old shared buffer dropped them).
    const missing = (t: 'a' | 'b') => tenants[t].accepted.filter((id) => !byRequest.has(id)).length;
    expect({ b: missing('b'), a: missing('a') }).toEqual({ b: 0, a: 0 });
    for (const t of ['a', 'b'] as const) {
      for (const id of tenants[t].accepted) expect(byRequest.get(id)![0]).toMatchObject({ tenantId: tenants[t].tenantId, outcome: 'ok' });
      for (const id of tenants[t].refused) expect(byRequest.has(id)).toBe(false);
      // In order per tenant (first delivery of each request id).
      const seen = [...new Set(records.filter((r) => r.tenantId === tenants[t].tenantId).map((r) => r.requestId))];
      expect(seen).toEqual(tenants[t].accepted);
    }
    // The outbox empties once drained.
    let left = -1;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && left !== 0;) {
      left = await stack.db.collection('usage_outbox').countDocuments();
      if (left !== 0) await new Promise((r) => setTimeout(r, 500));
    }
    expect(left).toBe(0);
  });
});
