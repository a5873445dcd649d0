import { verifyChain, type Commit } from '@keyward/event-log';
import { KeywardStack } from '../support/keyward-stack';
import { uniqueName } from '../support/env';

jest.setTimeout(180_000);

interface KeyAnswer {
  seq: number;
  key: { keyId: string; state: string; latestVersion: number; versions: { version: number; kcv: string }[] };
}

describe('key lifecycle end to end (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  let admin: string;
  let tenantId: string;

  beforeAll(async () => {
    await stack.start();
    ({ adminKey: admin, tenantId } = await stack.onboard('Acme Corp'));
  });
  afterAll(() => stack.stop());

  const getKey = async (keyId: string, minSeq: number) => {
    const answer = await stack.call(admin, 'GET', `/v1/keys/${keyId}?minSeq=${minSeq}`);
    expect(answer.status).toBe(200);
    return answer.json<{
      state: string;
      latestVersion: number;
      history: { to: string; actor: { principalId: string; role: string } }[];
      alias: string | null;
      destroyAfter: string | null;
    }>();
  };

  it('onboards, creates, activates, rotates, deactivates and schedules destruction, each visible in the views', async () => {
    const created = await stack.call(admin, 'POST', '/v1/keys', {
      alias: 'payments',
      labels: { team: 'billing' },
      description: 'card data',
    });
    expect(created.status).toBe(201);
    const { key, seq } = created.json<KeyAnswer>();
    expect(key.state).toBe('PreActive');
    expect(key.versions[0]!.kcv).toMatch(/^[0-9a-f]{16}$/);
    expect((await getKey(key.keyId, seq)).state).toBe('PreActive');

    const steps: [string, unknown, string][] = [
      ['activate', undefined, 'Active'],
      ['rotate', undefined, 'Active'],
      ['deactivate', undefined, 'Deactivated'],
      ['schedule-destruction', { waitingPeriodDays: 3 }, 'Deactivated'],
    ];
    let last = seq;
    for (const [action, body, state] of steps) {
      const answer = await stack.call(admin, 'POST', `/v1/keys/${key.keyId}/${action}`, body);
      expect(answer.status).toBe(200);
      const result = answer.json<KeyAnswer>();
      expect(result.seq).toBe(last + 1);
      last = result.seq;
      const view = await getKey(key.keyId, result.seq);
      expect(view.state).toBe(state);
    }
    const view = await getKey(key.keyId, last);
    expect(view.latestVersion).toBe(2);
    expect(view.destroyAfter).not.toBeNull();
    expect(view.history.map((h) => h.to)).toEqual(['PreActive', 'Active', 'Deactivated']);
    expect(view.history.every((h) => h.actor.role === 'tenant-admin')).toBe(true);

    // by alias, in the list (filters), and in the tenant summary
    const byAlias = await stack.call(admin, 'GET', `/v1/keys/alias/payments?minSeq=${last}`);
    expect(byAlias.body).toContain(key.keyId);
    const list = await stack.call(admin, 'GET', `/v1/keys?state=Deactivated&label=team=billing&minSeq=${last}`);
    expect(list.json<{ items: { keyId: string }[] }>().items.map((k) => k.keyId)).toEqual([key.keyId]);
    expect((await stack.call(admin, 'GET', `/v1/keys?state=Active&minSeq=${last}`)).json<{ items: unknown[] }>().items).toEqual([]);
    const summary = (await stack.call(admin, 'GET', `/v1/tenant?minSeq=${last}`)).json<{
      keysByState: Record<string, number>;
      tenantId: string;
    }>();
    expect(summary.tenantId).toBe(tenantId);
    expect(summary.keysByState.Deactivated).toBe(1);

    // illegal transitions are clear 409 problems
    const illegal = await stack.call(admin, 'POST', `/v1/keys/${key.keyId}/rotate`);
    expect(illegal.status).toBe(409);
    expect(illegal.headers['content-type']).toMatch(/problem\+json/);
    expect(illegal.json<{ type: string; detail: string }>()).toMatchObject({
      type: 'urn:keyward:problem:illegal-transition',
      detail: 'cannot rotate a key in state Deactivated',
    });
  });

  it('paginates the key list with a stable cursor', async () => {
    const ids: string[] = [];
    let seq = 0;
    for (let i = 0; i < 5; i++) {
      const answer = (await stack.call(admin, 'POST', '/v1/keys', { labels: { batch: 'pages' } })).json<KeyAnswer>();
      ids.push(answer.key.keyId);
      seq = answer.seq;
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { keyId: string }[]; nextCursor: string | null } = (
        await stack.call(admin, 'GET', `/v1/keys?label=batch=pages&limit=2&minSeq=${seq}${cursor ? `&cursor=${cursor}` : ''}`)
      ).json();
      seen.push(...page.items.map((k) => k.keyId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].sort());
  });

  it('two concurrent commands on one key never both succeed with conflicting results; seq is gap-free and the chain verifies', async () => {
    const { key } = (await stack.call(admin, 'POST', '/v1/keys', { activate: true })).json<KeyAnswer>();
    const answers = await Promise.all([
      stack.call(admin, 'POST', `/v1/keys/${key.keyId}/deactivate`),
      stack.call(admin, 'POST', `/v1/keys/${key.keyId}/deactivate`),
      stack.call(admin, 'POST', `/v1/keys/${key.keyId}/rotate`),
      stack.call(admin, 'POST', `/v1/keys/${key.keyId}/compromise`, { reason: 'race' }),
    ]);
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    // Both deactivations cannot succeed.
    expect(statuses.slice(0, 2).filter((s) => s === 200).length).toBeLessThanOrEqual(1);

    const commits = await stack.db.collection<Commit>('commits').find({ tenantId }).sort({ seq: 1 }).toArray();
    expect(commits.map((c) => c.seq)).toEqual(commits.map((_, i) => i + 1));
    expect(verifyChain(commits)).toBeUndefined();
    const seqs = answers.filter((a) => a.status === 200).map((a) => a.json<KeyAnswer>().seq);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('many concurrent commands from several tenants keep every log gap-free and hash-chained', async () => {
    const other = await stack.onboard();
    const work = [];
    for (let i = 0; i < 12; i++) {
      work.push(stack.call(i % 2 ? admin : other.adminKey, 'POST', '/v1/keys', { description: `k${i}` }));
    }
    const answers = await Promise.all(work);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    for (const t of [tenantId, other.tenantId]) {
      const commits = await stack.db.collection<Commit>('commits').find({ tenantId: t }).sort({ seq: 1 }).toArray();
      expect(verifyChain(commits)).toBeUndefined();
    }
  });

  it('a rebuild from offset 0 produces views with the same per-tenant checksums as the live ones', async () => {
    // Let the live projector catch up with the last command first.
    const last = (await stack.call(admin, 'POST', '/v1/keys', {})).json<KeyAnswer>().seq;
    await getKey(
      (await stack.call(admin, 'GET', `/v1/keys?limit=1&minSeq=${last}`)).json<{ items: { keyId: string }[] }>().items[0]!.keyId,
      last,
    );
    await new Promise((r) => setTimeout(r, 500));
    const result = await stack.rebuildInto(uniqueName('scratch').replace(/[-.]/g, '_'));
    expect(result.mismatched).toEqual([]);
    expect(Object.keys(result.checksums)).toContain(tenantId);
    expect(result.checksums[tenantId]).toBe(result.live[tenantId]);
  });

  it('a projector killed mid-stream and restarted converges: nothing missing or doubled', async () => {
    const writes = (async () => {
      let seq = 0;
      for (let i = 0; i < 15; i++) seq = (await stack.call(admin, 'POST', '/v1/keys', { labels: { burst: 'kill' } })).json<KeyAnswer>().seq;
      return seq;
    })();
    await new Promise((r) => setTimeout(r, 300));
    await stack.restartProjector(true);
    const last = await writes;
    // The views (a view read with minSeq: the tenant's): a killed consumer's partitions move after
    // its session times out; clients retry on 503.
    let view = await stack.call(admin, 'GET', `/v1/tenant?minSeq=${last}`);
    for (let i = 0; i < 30 && view.status === 503; i++) {
      expect(view.headers['retry-after']).toBe('1');
      await new Promise((r) => setTimeout(r, 1_000));
      view = await stack.call(admin, 'GET', `/v1/tenant?minSeq=${last}`);
    }
    expect(view.status).toBe(200);
    const list = await stack.call(admin, 'GET', `/v1/keys?label=burst=kill&limit=100&minSeq=${last}`);
    expect(list.json<{ items: unknown[] }>().items).toHaveLength(15);
    const result = await stack.rebuildInto(uniqueName('scratch').replace(/[-.]/g, '_'));
    expect(result.mismatched).toEqual([]);
  });

  it('refuses unknown fields, malformed JSON and bad identifiers with precise problem documents', async () => {
    const unknownField = await stack.call(admin, 'POST', '/v1/keys', { keyType: 'AES-256-GCM', colour: 'blue' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.json<{ errors: { path: string }[] }>().errors[0]!.path).toBe('body');
    const badType = await stack.call(admin, 'POST', '/v1/keys', { keyType: 'ROT13' });
    expect(badType.status).toBe(400);
    expect(badType.body).toContain('body.keyType');
    const malformed = await stack.api.request('POST', '/v1/keys', { body: '{"keyType":', headers: { authorization: `Bearer ${admin}` } });
    expect(malformed.status).toBe(400);
    expect(malformed.body).not.toMatch(/\bat \w+ \(/);
    expect((await stack.call(admin, 'GET', '/v1/keys/..%2F..%2Fetc')).status).toBe(400);
    const badAlias = await stack.call(admin, 'POST', '/v1/keys', { alias: 'alias/x' });
    expect(badAlias.status).toBe(422);
  });

  it('offers the OpenAPI document with schemas for request bodies', async () => {
    const doc = (await stack.api.get('/docs/json')).json<{
      paths: Record<string, Record<string, { requestBody?: unknown; responses: unknown }>>;
    }>();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/keys', '/v1/keys/{id}', '/v1/tenants', '/v1/principals']));
    expect(doc.paths['/v1/keys']!.post!.requestBody).toBeDefined();
  });
});
