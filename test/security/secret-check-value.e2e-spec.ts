import { createHmac } from 'node:crypto';
import type { Binary } from 'mongodb';
import { unwrapKek, unwrapMaterial } from '@keyward/crypto';
import { testInfra } from '../support/env';
import { KeywardStack } from '../support/keyward-stack';
import { readWholeTopic } from '../crypto/support/secret-scan';

jest.setTimeout(180_000);

/** HMAC-SHA256(secret, 32 zero bytes), first 8 bytes: what anyone holding a guess of the secret can compute. */
const guessable = (secret: Buffer): string => createHmac('sha256', secret).update(Buffer.alloc(32)).digest().subarray(0, 8).toString('hex');

interface KeyView {
  keyId: string;
  versions: { version: number; kcv: string }[];
}

/**
 * Issue 23, finding 7: a SECRET key's material may be a password (KMIP Register takes 1-190 bytes),
 * so its check value must not let a reader of the log, Kafka, the views or the REST answers test
 * guesses offline. Random AES/HMAC keys keep the plain check value (a positive control here: the
 * scan finds theirs, so it would find the secret's).
 */
describe('SECRET keys: no check value computable from the secret alone', () => {
  const stack = new KeywardStack();

  beforeAll(async () => {
    await stack.start();
  });

  afterAll(async () => {
    await stack.stop();
  });

  /** The unwrapped material of a key's version 1, recovered from the keystore with the stack's root key. */
  async function materialOf(tenantId: string, keyId: string): Promise<Buffer> {
    const keystore = stack.db.collection('keystore');
    const kekDoc = await keystore.findOne({ kind: 'kek', tenantId });
    const matDoc = await keystore.findOne({ kind: 'material', tenantId, keyId, version: 1 });
    if (!kekDoc || !matDoc) throw new Error(`no KEK or material for ${tenantId}/${keyId}`);
    const kek = unwrapKek(stack.rootKey(), tenantId, Buffer.from((kekDoc.sealed as Binary).buffer));
    try {
      return unwrapMaterial(kek, { tenantId, keyId, version: 1 }, Buffer.from((matDoc.sealed as Binary).buffer));
    } finally {
      kek.fill(0);
    }
  }

  it('publishes no HMAC(secret, zeros) in events, Kafka, views or REST answers', async () => {
    const tenant = await stack.onboard();
    const created = async (keyType: string): Promise<{ keyId: string; seq: number }> => {
      const answer = await stack.call(tenant.adminKey, 'POST', '/v1/keys', { keyType, activate: true });
      expect(answer.status).toBe(201);
      const body = answer.json<{ seq: number; key: { keyId: string } }>();
      return { keyId: body.key.keyId, seq: body.seq };
    };
    const secret = await created('SECRET');
    const aes = await created('AES-256-GCM');
    const secretMaterial = await materialOf(tenant.tenantId, secret.keyId);
    const aesMaterial = await materialOf(tenant.tenantId, aes.keyId);
    const secretKcv = guessable(secretMaterial);
    const aesKcv = guessable(aesMaterial);

    // REST answers (the projected views behind them included).
    const one = await stack.call(tenant.adminKey, 'GET', `/v1/keys/${secret.keyId}?minSeq=${aes.seq}`);
    expect(one.status).toBe(200);
    const view = one.json<KeyView>();
    const list = await stack.call(tenant.adminKey, 'GET', `/v1/keys?minSeq=${aes.seq}`);
    expect(list.status).toBe(200);
    const audit = await stack.call(tenant.adminKey, 'GET', '/v1/audit/events');
    const answers = [one.body, list.body, audit.status === 200 ? audit.body : ''].join('\n');
    expect(answers).not.toContain(secretKcv);
    expect(list.body).toContain(aesKcv);
    expect(view.versions[0]?.kcv).toMatch(/^t1\.[0-9a-f]{16}$/);

    // The commit log, every other collection (views, checkpoints, ...) except the keystore itself.
    const documents: string[] = [];
    for (const { name } of await stack.db.listCollections().toArray()) {
      if (name === 'keystore') continue;
      for (const doc of await stack.db.collection(name).find({}).toArray()) documents.push(JSON.stringify(doc));
    }
    const stored = documents.join('\n');
    expect(stored).toContain(aesKcv);
    expect(stored).toContain(view.versions[0]?.kcv);
    expect(stored).not.toContain(secretKcv);

    // Kafka: every message of the events topic.
    const messages = await readWholeTopic(testInfra().brokers, stack.env.KAFKA_TOPIC_EVENTS!);
    const published = messages.map((m) => m.value?.toString('utf8') ?? '').join('\n');
    expect(published).toContain(aesKcv);
    expect(published).not.toContain(secretKcv);

    secretMaterial.fill(0);
    aesMaterial.fill(0);
  });
});
