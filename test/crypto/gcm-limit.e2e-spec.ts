import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer, ServiceProcess } from '../support/service-process';

jest.setTimeout(180_000);

const LIMIT = 4;
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const problemType = (answer: HttpAnswer): string => answer.json<{ type: string }>().type.replace('urn:keyward:problem:', '');

/**
 * Issue 23, finding 12: AES-GCM with random 96-bit IVs allows at most 2^32 encryptions under one
 * key (NIST SP 800-38D). Every encryption (encrypt, data key, rewrap) spends one of the key
 * version's budget, counted across instances and restarts; a small GCM_VERSION_ENCRYPTION_LIMIT
 * shows the refusal, that decryption goes on, and that rotation restores encryption.
 */
describe('AES-GCM encryptions per key version are limited (random-IV bound)', () => {
  const stack = new KeywardStack();
  let second: ServiceProcess | undefined;

  beforeAll(async () => {
    Object.assign(stack.env, { GCM_VERSION_ENCRYPTION_LIMIT: String(LIMIT), GCM_RESERVATION_BLOCK: '2' });
    await stack.start();
  });

  afterAll(async () => {
    await second?.stop();
    await stack.stop();
  });

  it('refuses the version after the limit (409 key-version-exhausted, on every instance and after a restart), decrypts on, and encrypts again after rotation', async () => {
    const { adminKey } = await stack.onboard();
    const user = await stack.principal(adminKey, 'key-user');
    const created = await stack.call(adminKey, 'POST', '/v1/keys', { keyType: 'AES-256-GCM', activate: true });
    expect(created.status).toBe(201);
    const keyId = created.json<{ key: { keyId: string } }>().key.keyId;
    second = await stack.startApi();

    // Four encryptions over two instances: encrypt, a data key, a rewrap, encrypt.
    const first = await stack.call(user, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: b64('one') });
    expect(first.status).toBe(200);
    const ciphertext = first.json<{ ciphertext: string }>().ciphertext;
    expect((await stack.callOn(second, user, 'POST', `/v1/keys/${keyId}/data-key`, { bytes: 32 })).status).toBe(200);
    expect((await stack.call(user, 'POST', '/v1/rewrap', { ciphertext })).status).toBe(200);
    expect((await stack.callOn(second, user, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: b64('four') })).status).toBe(200);

    // The fifth is refused on both instances, whichever operation asks.
    for (const [api, path, body] of [
      [stack.api, `/v1/keys/${keyId}/encrypt`, { plaintext: b64('five') }],
      [second, `/v1/keys/${keyId}/encrypt`, { plaintext: b64('five') }],
      [stack.api, `/v1/keys/${keyId}/data-key`, { bytes: 32 }],
      [second, '/v1/rewrap', { ciphertext }],
    ] as const) {
      const refused = await stack.callOn(api, user, 'POST', path, body);
      expect([refused.status, problemType(refused)]).toEqual([409, 'key-version-exhausted']);
      expect(refused.json<{ detail: string }>().detail).toMatch(/rotate the key/);
    }
    // Decryption is not limited.
    const opened = await stack.call(user, 'POST', '/v1/decrypt', { ciphertext });
    expect([opened.status, opened.json<{ plaintext: string }>().plaintext]).toEqual([200, b64('one')]);

    // The count survives a restart: a fresh instance is refused too.
    await stack.restartApi();
    const afterRestart = await stack.call(user, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: b64('six') });
    expect([afterRestart.status, problemType(afterRestart)]).toEqual([409, 'key-version-exhausted']);
    const counted = await stack.db.collection('encryption_counts').find({ keyId }).toArray();
    expect(counted).toHaveLength(1);
    expect(counted[0]).toMatchObject({ version: 1 });
    expect(counted[0]!.reserved as number).toBeGreaterThanOrEqual(LIMIT);

    // Rotation gives a fresh version with a fresh budget; old ciphertexts move to it.
    expect((await stack.call(adminKey, 'POST', `/v1/keys/${keyId}/rotate`, {})).status).toBe(200);
    const again = await stack.call(user, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: b64('seven') });
    expect([again.status, again.json<{ version: number }>().version]).toEqual([200, 2]);
    const moved = await stack.call(user, 'POST', '/v1/rewrap', { ciphertext });
    expect([moved.status, moved.json<{ version: number }>().version]).toEqual([200, 2]);
  });
});
