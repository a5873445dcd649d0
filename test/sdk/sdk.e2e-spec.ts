import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvelopeEncryption, KeywardClient, KeywardProblemError } from '@keyward/sdk';
import { generateOpenApiTypes, type OpenApiDocument } from '../../libs/sdk/src/codegen/openapi-types';
import { issueClientCert } from '../security/support/client-certs';
import { KeywardStack } from '../support/keyward-stack';

jest.setTimeout(240_000);

const generatedFile = join(__dirname, '..', '..', 'libs', 'sdk', 'src', 'generated', 'openapi.ts');

describe('the SDK against a real key-api (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  let admin: string;
  let user: string;
  let keyId: string;
  const client = (apiKey: string, cert?: { cert: Buffer; key: Buffer }): KeywardClient =>
    new KeywardClient({ baseUrl: stack.api.baseUrl, apiKey, tls: { ca: readFileSync(join(stack.dataDir, 'tls', 'ca.crt')), ...cert } });

  beforeAll(async () => {
    await stack.start();
    ({ adminKey: admin } = await stack.onboard('SDK Corp'));
    user = await stack.principal(admin, 'key-user');
    const created = await client(admin).request('post', '/v1/keys', { body: { alias: 'sdk', activate: true } });
    // POST /v1/keys answers 201 with the key, or 202 with a pending approval under dual control.
    if (!('key' in created)) throw new Error('creating a key needed an approval');
    keyId = created.key.keyId;
  });
  afterAll(() => stack.stop());

  it('its generated types are those of the served OpenAPI document (run "npm run sdk:generate" when this fails)', async () => {
    const served = (await stack.api.get('/docs/json')).json<OpenApiDocument>();
    expect(readFileSync(generatedFile, 'utf8')).toBe(generateOpenApiTypes(served));
  });

  it('the envelope helper round-trips messages of several frames, with AAD, and with the data-key cache', async () => {
    const sdk = client(user);
    const envelope = new EnvelopeEncryption(sdk, { key: 'alias/sdk', chunkBytes: 4096, cache: { maxMessages: 2, maxAgeMs: 60_000 } });
    const plaintext = Buffer.alloc(10_000, 'keyward ');
    const sealed = await envelope.encrypt(plaintext, { aad: Buffer.from('order-42') });
    const second = await envelope.encrypt(Buffer.from('second'), { aad: Buffer.from('order-42') });
    expect(await envelope.decrypt(sealed, { aad: Buffer.from('order-42') })).toEqual(plaintext);
    expect((await new EnvelopeEncryption(sdk).decrypt(second, { aad: Buffer.from('order-42') })).toString()).toBe('second');
    // Another AAD: key-api refuses to unwrap the data key.
    const refused = await new EnvelopeEncryption(sdk).decrypt(sealed, { aad: Buffer.from('order-43') }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(KeywardProblemError);
    expect((refused as KeywardProblemError).problem).toBe('authentication-failed');
    sdk.close();
  });

  it('the typed data-plane methods take and give bytes; refusals are typed problem documents', async () => {
    const sdk = client(user);
    const { ciphertext, keyId: used } = await sdk.encrypt('alias/sdk', Buffer.from([0, 1, 2, 255]));
    expect(used).toBe(keyId);
    expect((await sdk.decrypt(ciphertext)).plaintext).toEqual(Buffer.from([0, 1, 2, 255]));
    const asAdmin = await client(admin)
      .encrypt(keyId, Buffer.from('x'))
      .catch((err: unknown) => err);
    expect(asAdmin).toMatchObject({ status: 403, problem: 'forbidden-role' });
    const missing = await sdk.generateDataKey('alias/nope').catch((err: unknown) => err);
    expect(missing).toMatchObject({ status: 404, problem: 'not-found' });
    sdk.close();
  });

  it('mutual TLS: a principal bound to a client certificate works with tls.cert and tls.key, and is refused without', async () => {
    const made = await stack.principalWithId(admin, 'key-user', 'sdk-mtls-app');
    const issued = await issueClientCert({ dataDir: stack.dataDir, out: mkdtempSync(join(tmpdir(), 'kw-sdk-certs-')), cn: 'sdk-mtls-app' });
    const bound = await stack.call(admin, 'PUT', `/v1/principals/${made.principalId}/certificate`, { fingerprint: issued.fingerprint });
    expect(bound.status).toBe(200);
    const withCert = client(made.apiKey, { cert: Buffer.from(issued.cert), key: Buffer.from(issued.key) });
    const envelope = new EnvelopeEncryption(withCert, { key: keyId });
    expect((await envelope.decrypt(await envelope.encrypt(Buffer.from('over mTLS')))).toString()).toBe('over mTLS');
    withCert.close();
    const alone = await client(made.apiKey)
      .generateDataKey(keyId)
      .catch((err: unknown) => err);
    expect(alone).toMatchObject({ status: 401, problem: 'client-certificate-required' });
  });
});
