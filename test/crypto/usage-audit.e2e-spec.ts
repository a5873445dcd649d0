import { KeywardStack } from '../support/keyward-stack';
import { readUsage } from '../support/usage-topic';
import { uniqueName } from '../support/env';

jest.setTimeout(180_000);

describe('usage audit on the usage topic (real Kafka)', () => {
  const stack = new KeywardStack();
  let tenantId: string;
  let admin: string;
  let user: string;
  let key: string;

  beforeAll(async () => {
    await stack.start();
    ({ tenantId, adminKey: admin } = await stack.onboard('Audited'));
    user = await stack.principal(admin, 'key-user');
    key = (await stack.call(admin, 'POST', '/v1/keys', { activate: true })).json<{ key: { keyId: string } }>().key.keyId;
  });
  afterAll(() => stack.stop());

  it('records every operation, refused ones included, and loses none when key-api stops right after answering', async () => {
    const marker = Buffer.from(`usage-marker-${uniqueName('m')}`).toString('base64');
    const answers: number[] = [];
    for (let i = 0; i < 40; i++) {
      answers.push((await stack.call(user, 'POST', `/v1/keys/${key}/encrypt`, { plaintext: marker })).status);
    }
    const refused = await stack.call(user, 'POST', '/v1/decrypt', { ciphertext: Buffer.from('junk junk junk').toString('base64') });
    expect(refused.status).toBe(400);
    const foreign = await stack.call(user, 'POST', '/v1/keys/key_doesnotexist01/encrypt', { plaintext: marker });
    expect(foreign.status).toBe(404);
    expect(answers.every((s) => s === 200)).toBe(true);
    // Stop at once (SIGTERM): the batch still in memory must be flushed before exit.
    expect(await stack.api.stop()).toBe(0);

    const records = await readUsage(stack.env.KAFKA_TOPIC_USAGE!, 42);
    const ok = records.filter((r) => r.operation === 'encrypt' && r.outcome === 'ok');
    expect(ok).toHaveLength(40);
    expect(ok[0]).toMatchObject({ v: 1, tenantId, role: 'key-user', keyId: key, version: 1 });
    expect(new Set(ok.map((r) => r.requestId)).size).toBe(40);
    expect(records.find((r) => r.operation === 'decrypt')).toMatchObject({ outcome: 'malformed-ciphertext', keyId: null });
    expect(records.find((r) => r.operation === 'encrypt' && r.outcome !== 'ok')).toMatchObject({
      outcome: 'not-found',
      keyId: 'key_doesnotexist01',
    });
    for (const record of records) {
      expect(Object.keys(record).sort()).toEqual([
        'at',
        'keyId',
        'operation',
        'outcome',
        'principalId',
        'requestId',
        'role',
        'tenantId',
        'v',
        'version',
      ]);
      expect(JSON.stringify(record)).not.toContain(marker);
    }
    stack.api = await stack.startApi();
  });
});
