import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer, ServiceProcess } from '../support/service-process';

jest.setTimeout(240_000);

const problem = (answer: HttpAnswer): { type: string; limit?: string; headSeq?: number; minSeq?: number } => {
  const body = answer.json<{ type: string; limit?: string; headSeq?: number; minSeq?: number }>();
  return { ...body, type: body.type.replace('urn:keyward:problem:', '') };
};

describe('one tenant cannot degrade the others: quotas, audit scans, minSeq (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  /** A key-api with small per-tenant quotas and one audit scan per tenant, two in all. */
  let limited: ServiceProcess;
  const admins: string[] = [];

  beforeAll(async () => {
    await stack.start();
    for (const name of ['Quota One', 'Quota Two', 'Quota Three', 'Quota Four', 'Quota Five']) {
      admins.push((await stack.onboard(name)).adminKey);
    }
    limited = await stack.startApi({
      TENANT_MAX_KEYS: '2',
      TENANT_COMMITS_PER_MINUTE: '4',
      AUDIT_SCANS_PER_TENANT: '1',
      AUDIT_SCANS_MAX: '2',
    });
  });
  afterAll(async () => {
    await limited.stop();
    await stack.stop();
  });

  it('a tenant cannot hold more keys than its quota: 409 quota-exceeded, and nothing is created', async () => {
    const [admin] = admins;
    let seq = 0;
    for (let i = 0; i < 2; i++) {
      const created = await stack.callOn(limited, admin!, 'POST', '/v1/keys', {});
      expect(created.status).toBe(201);
      seq = created.json<{ seq: number }>().seq;
    }
    const refused = await stack.callOn(limited, admin!, 'POST', '/v1/keys', {});
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(problem(refused)).toMatchObject({ type: 'quota-exceeded', quota: 'keys', limit: 2, current: 2 });
    const listed = await stack.callOn(limited, admin!, 'GET', `/v1/keys?minSeq=${seq}`);
    expect(listed.json<{ items: unknown[] }>().items).toHaveLength(2);
  });

  it('a tenant cannot change its log faster than its quota: 429 with Retry-After, other tenants unaffected', async () => {
    const [, admin, other] = admins;
    const created = await stack.callOn(limited, admin!, 'POST', '/v1/keys', {});
    expect(created.status).toBe(201);
    const keyId = created.json<{ key: { keyId: string } }>().key.keyId;
    const statuses: number[] = [];
    let refused: HttpAnswer | undefined;
    for (let i = 0; i < 5; i++) {
      const answer = await stack.callOn(limited, admin!, 'PATCH', `/v1/keys/${keyId}`, { description: `change ${i}` });
      statuses.push(answer.status);
      if (answer.status !== 200) refused ??= answer;
    }
    // 4 commits a minute: the create and three changes pass, the rest are refused.
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(problem(refused!)).toMatchObject({ type: 'tenant-rate-exceeded', quota: 'commits-per-minute', limit: 4 });
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await stack.callOn(limited, other!, 'POST', '/v1/keys', {})).status).toBe(201);
  });

  it('audit scans of the shared topic are capped per tenant and overall: 429 audit-scan-busy with Retry-After', async () => {
    const verify = (key: string): Promise<HttpAnswer> => stack.callOn(limited, key, 'GET', '/v1/audit/verify');
    // One tenant asks four times at once: one scan runs, the others are refused.
    const same = await Promise.all(Array.from({ length: 4 }, () => verify(admins[0]!)));
    const sameStatuses = same.map((a) => a.status).sort();
    expect(sameStatuses[0]).toBe(200);
    expect(sameStatuses.at(-1)).toBe(429);
    for (const answer of same.filter((a) => a.status === 429)) {
      expect(problem(answer)).toMatchObject({ type: 'audit-scan-busy', limit: 'tenant' });
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // Five tenants at once, two scans in all: at least one is refused for the instance's cap.
    const all = await Promise.all(admins.map((admin) => verify(admin)));
    expect(all.map((a) => a.status).filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    const overall = all.filter((a) => a.status === 429);
    expect(overall.length).toBeGreaterThanOrEqual(1);
    for (const answer of overall) expect(problem(answer)).toMatchObject({ type: 'audit-scan-busy', limit: 'overall' });
    // Once the scans ended, the slots are free again.
    expect((await verify(admins[2]!)).status).toBe(200);
    const usage = await stack.callOn(limited, admins[2]!, 'GET', '/v1/audit/usage');
    expect(usage.status).toBe(200);
  });

  it("a minSeq beyond the head of the tenant's log answers 409 seq-not-reached at once, naming the head", async () => {
    const admin = admins[2]!;
    const created = await stack.call(admin, 'POST', '/v1/keys', {});
    expect(created.status).toBe(201);
    const seq = created.json<{ seq: number }>().seq;
    // Reaching one's own write still works.
    expect((await stack.call(admin, 'GET', `/v1/keys?minSeq=${seq}`)).status).toBe(200);
    for (const api of [stack.api, limited]) {
      const beyond = await stack.callOn(api, admin, 'GET', `/v1/keys?minSeq=${seq + 1000}`);
      expect(beyond.status).toBe(409);
      expect(beyond.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(problem(beyond)).toMatchObject({ type: 'seq-not-reached', minSeq: seq + 1000 });
      expect(problem(beyond).headSeq).toBeGreaterThanOrEqual(seq);
      expect(problem(beyond).headSeq).toBeLessThan(seq + 1000);
    }
  });
});
