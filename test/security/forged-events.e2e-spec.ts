import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { KeywardEvent } from '@keyward/domain';
import { sealCommit, toCommit, type CommitDocument } from '@keyward/event-log';
import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer, ServiceProcess } from '../support/service-process';

/**
 * Issue 23, finding 1: anyone who can write to keyward.events must not be able to cause an effect.
 * Forged commit messages go straight to the topic (kafkajs, no Keyward code in between): the
 * projector must neither shred the keystore nor touch the views, key-api must keep serving the
 * tenant, and both count what they refused in keyward_forged_commits_total.
 */
jest.setTimeout(300_000);

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const at = '2026-01-01T00:00:00.000Z';
const actor = { principalId: 'prn_forger01', role: 'provider-admin' };

/** The sum of keyward_forged_commits_total samples of one consumer on a service's /metrics. */
async function forgedCount(service: ServiceProcess, consumer: string): Promise<number> {
  // key-api serves its metrics on a listener of its own; the projector on its HTTP port.
  const body = service.metricsUrl === undefined ? (await service.get('/metrics')).body : await (await fetch(service.metricsUrl)).text();
  let total = 0;
  for (const line of body.split('\n')) {
    if (line.startsWith('keyward_forged_commits_total{') && line.includes(`consumer="${consumer}"`))
      total += Number(line.split(' ').at(-1));
  }
  return total;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('forged commit messages on keyward.events (real Kafka, FerretDB and services)', () => {
  const stack = new KeywardStack();
  let producer: Producer;
  let tenantId: string;
  let admin: string;
  let user: string;
  let keyId: string;
  let ciphertext: string;

  const checkpoint = async (): Promise<number> =>
    (await stack.db.collection<{ _id: string; lastSeq: number }>('view_checkpoints').findOne({ _id: tenantId }))?.lastSeq ?? 0;
  const storeCommits = (): Promise<CommitDocument[]> =>
    stack.db.collection<CommitDocument>('commits').find({ tenantId }).sort({ seq: 1 }).toArray();
  const keystore = async (): Promise<string[]> =>
    (await stack.db.collection<{ _id: string; tenantId?: string }>('keystore').find({ tenantId }).toArray()).map((d) => d._id).sort();
  const views = async (): Promise<unknown> => {
    const of = (name: string) =>
      stack.db
        .collection<{ _id: string; tenantId: string }>(name)
        .find({ $or: [{ tenantId }, { _id: tenantId }] })
        .sort({ _id: 1 })
        .toArray();
    return { keys: await of('view_keys'), principals: await of('view_principals'), tenants: await of('view_tenants') };
  };
  const publish = (values: readonly unknown[]): Promise<unknown> =>
    producer.send({
      topic: stack.env.KAFKA_TOPIC_EVENTS!,
      messages: values.map((value) => ({
        key: tenantId,
        value: JSON.stringify(value),
        headers: { 'keyward-kind': 'commit', 'keyward-seq': String((value as { seq: number }).seq) },
      })),
    });
  const encrypt = (): Promise<HttpAnswer> => stack.call(user, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: b64('still mine') });

  beforeAll(async () => {
    await stack.start();
    ({ tenantId, adminKey: admin } = await stack.onboard());
    user = await stack.principal(admin, 'key-user');
    const created = await stack.call(admin, 'POST', '/v1/keys', { activate: true });
    expect(created.status).toBe(201);
    keyId = created.json<{ key: { keyId: string } }>().key.keyId;
    const encrypted = await encrypt();
    expect(encrypted.status).toBe(200);
    ciphertext = encrypted.json<{ ciphertext: string }>().ciphertext;
    const kafka = new Kafka({ clientId: 'forger', brokers: stack.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await stack.stop();
  });

  it('neither shreds, nor changes the views, nor stops the tenant, and counts every forgery', async () => {
    const head = (await storeCommits()).at(-1)!;
    await until('the projector to catch up', async () => ((await checkpoint()) >= head.seq ? true : undefined));
    const keystoreBefore = await keystore();
    expect(keystoreBefore.some((id) => id.startsWith('kek:'))).toBe(true);
    expect(keystoreBefore.length).toBeGreaterThanOrEqual(2); // the KEK and the key's material
    const viewsBefore = await views();
    const forgedBefore = await forgedCount(stack.projector, 'projector');

    const real = toCommit((await storeCommits())[1]!);
    const offboard = { type: 'tenant.offboarded.v1', data: { tenantId }, actor, correlationId: 'forged', at } as unknown as KeywardEvent;
    const destroy = {
      type: 'key.destroyed.v1',
      data: { keyId, versions: [1] },
      actor,
      correlationId: 'forged',
      at,
    } as unknown as KeywardEvent;
    const forged: unknown[] = [
      // The example: an offboarding at a seq the tenant already has.
      { tenantId, seq: 1, events: [{ type: 'tenant.offboarded.v1' }], hash: 'f'.repeat(64) },
      // A destruction of the key at an existing seq, with a made-up hash.
      { ...real, events: [destroy], hash: '0'.repeat(64) },
      // A real commit with its hash altered.
      { ...real, hash: `${real.hash.slice(0, 63)}${real.hash.endsWith('0') ? '1' : '0'}` },
      // A real commit with altered events that keeps the real hash, and one re-sealed.
      { ...real, events: [destroy] },
      sealCommit({ ...real, events: [offboard] }),
      // Beyond the head, correctly chained and sealed: only the store can tell.
      sealCommit({ tenantId, seq: head.seq + 1, commandId: 'forged', events: [offboard], committedAt: at, prevHash: head.hash }),
      // Not a commit at all.
      { hello: 'world', seq: 5 },
    ];
    await publish(forged);

    // A real commit after the forgeries, on the same partition (key = tenant id): once the
    // projector has it, it has read every forged message before it.
    const second = await stack.call(admin, 'POST', '/v1/keys', { activate: true });
    expect(second.status).toBe(201);
    const secondSeq = second.json<{ seq: number }>().seq;
    await until('the projector to project the real commit after the forgeries', async () =>
      (await checkpoint()) >= secondSeq ? true : undefined,
    );

    // Nothing was shredded: the KEK and the key's material are still there (plus the new key's).
    const keystoreAfter = await keystore();
    expect(keystoreAfter).toEqual(expect.arrayContaining(keystoreBefore));
    // The views of what existed are untouched, and the real commit was not taken for a duplicate.
    const viewsAfter = (await views()) as { keys: { _id: string }[]; principals: unknown[]; tenants: { status: string }[] };
    const before = viewsBefore as { keys: { _id: string }[]; principals: unknown[]; tenants: { status: string }[] };
    expect(viewsAfter.keys.filter((k) => before.keys.some((b) => b._id === k._id))).toEqual(before.keys);
    expect(viewsAfter.principals).toEqual(before.principals);
    expect(viewsAfter.tenants.map((t) => t.status)).toEqual(before.tenants.map((t) => t.status));
    expect(await checkpoint()).toBe(secondSeq);
    expect(viewsAfter.keys).toHaveLength(before.keys.length + 1);

    // The tenant still works: the old ciphertext decrypts, the key encrypts.
    const decrypted = await stack.call(user, 'POST', '/v1/decrypt', { ciphertext });
    expect(decrypted.status).toBe(200);
    expect(decrypted.json<{ plaintext: string }>().plaintext).toBe(b64('still mine'));
    expect((await encrypt()).status).toBe(200);
    const detail = await stack.call(admin, 'GET', `/v1/keys/${keyId}?minSeq=${secondSeq}`);
    expect(detail.json<{ state: string }>().state).toBe('Active');

    // Every forged message was counted by the projector; key-api counted the seq beyond the head.
    expect((await forgedCount(stack.projector, 'projector')) - forgedBefore).toBe(forged.length);
    await until('key-api to count the commit beyond the head', async () =>
      (await forgedCount(stack.api, 'key-api-stream')) >= 1 ? true : undefined,
    );
    // A rebuild from the topic folds only what the store backs: the same views as the live ones.
    const rebuilt = await stack.rebuildInto(`${stack.env.MONGODB_DB!}_rebuild`);
    expect(rebuilt.mismatched).toEqual([]);
    expect((rebuilt as unknown as { forged: number }).forged).toBe(forged.length);
    await stack.mongo.db(`${stack.env.MONGODB_DB!}_rebuild`).dropDatabase();

    // The log names tenant and seq, never the forged content.
    expect(stack.projector.log).toContain('SECURITY');
    expect(stack.projector.log).not.toContain('"correlationId":"forged"');
    expect(stack.projector.log).not.toContain('hello');
  });
});
