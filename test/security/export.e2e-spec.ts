import { constants, createPublicKey, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptBlob, parseBlob } from '@keyward/crypto';
import { KeywardStack } from '../support/keyward-stack';
import type { ClientCertificate, HttpAnswer } from '../support/service-process';
import { issueClientCert, type IssuedCert } from './support/client-certs';

jest.setTimeout(180_000);

const problemType = (answer: HttpAnswer): string => answer.json<{ type: string }>().type.replace('urn:keyward:problem:', '');

describe('key retrieval: exportable keys, export enabled under dual control, over mutual TLS only', () => {
  const stack = new KeywardStack();
  const certDir = mkdtempSync(join(tmpdir(), 'kw-export-certs-'));
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  let tenantId: string;
  let alice: string;
  let bob: string;
  let user: { apiKey: string; principalId: string };
  let cert: IssuedCert;

  const material = (keyId: string, clientCert?: ClientCertificate, pem = publicPem) =>
    stack.api.request('POST', `/v1/keys/${keyId}/material`, {
      headers: { authorization: `Bearer ${user.apiKey}` },
      body: { publicKey: pem },
      ...(clientCert ? { clientCert } : {}),
    });

  beforeAll(async () => {
    await stack.start();
    ({ tenantId, adminKey: alice } = await stack.onboard('Export Corp'));
    bob = await stack.principal(alice, 'tenant-admin');
    user = await stack.principalWithId(alice, 'key-user', 'hsm-sync');
    cert = await issueClientCert({ dataDir: stack.dataDir, out: certDir, cn: 'hsm-sync' });
    expect(
      (await stack.call(alice, 'PUT', `/v1/principals/${user.principalId}/certificate`, { fingerprint: cert.fingerprint })).status,
    ).toBe(200);
  });
  afterAll(() => stack.stop());

  it('releases the material, wrapped under the caller key, only once two admins enabled export; it opens Keyward ciphertexts', async () => {
    const keyId = (await stack.call(alice, 'POST', '/v1/keys', { activate: true, exportable: true })).json<{ key: { keyId: string } }>().key
      .keyId;
    const early = await material(keyId, cert);
    expect([early.status, problemType(early)]).toEqual([409, 'key-unusable']);

    const requested = await stack.call(alice, 'POST', `/v1/keys/${keyId}/enable-export`, {});
    expect(requested.status).toBe(202);
    const approvalId = requested.json<{ pendingApproval: { approvalId: string } }>().pendingApproval.approvalId;
    expect((await material(keyId, cert)).status).toBe(409);
    expect((await stack.call(bob, 'POST', `/v1/approvals/${approvalId}/approve`)).status).toBe(200);

    const answer = await material(keyId, cert);
    expect(answer.status).toBe(200);
    const body = answer.json<{ wrappedKey: string; algorithm: string; keyId: string; version: number }>();
    expect(body).toMatchObject({ algorithm: 'RSA-OAEP-SHA256', keyId, version: 1 });
    expect(answer.body).not.toMatch(/"material"|"plaintext"/);
    const raw = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from(body.wrappedKey, 'base64'),
    );
    expect(raw).toHaveLength(32);

    // The released material is the key's own: a ciphertext Keyward made with it opens locally.
    const made = await stack.api.request('POST', `/v1/keys/${keyId}/encrypt`, {
      headers: { authorization: `Bearer ${user.apiKey}` },
      body: { plaintext: Buffer.from('exported').toString('base64') },
      clientCert: cert,
    });
    const blob = parseBlob(Buffer.from(made.json<{ ciphertext: string }>().ciphertext, 'base64'));
    expect(decryptBlob(raw, tenantId, blob).toString()).toBe('exported');
    const usage = await stack.db.collection('keystore').countDocuments({ keyId });
    expect(usage).toBe(1);
  });

  it('refuses without mutual TLS, with another certificate, for a key not created exportable, and a weak wrapping key', async () => {
    const keyId = (await stack.call(alice, 'POST', '/v1/keys', { activate: true, exportable: true })).json<{ key: { keyId: string } }>().key
      .keyId;
    const id = (await stack.call(alice, 'POST', `/v1/keys/${keyId}/enable-export`, {})).json<{ pendingApproval: { approvalId: string } }>()
      .pendingApproval.approvalId;
    await stack.call(bob, 'POST', `/v1/approvals/${id}/approve`);

    const alone = await material(keyId);
    expect(alone.status).toBe(401); // the principal is bound: its key alone is not enough
    const other = await issueClientCert({ dataDir: stack.dataDir, out: join(certDir, 'other'), cn: 'intruder' });
    expect((await material(keyId, other)).status).toBe(401);

    const plain = (await stack.call(alice, 'POST', '/v1/keys', { activate: true })).json<{ key: { keyId: string } }>().key.keyId;
    const notExportable = await stack.call(alice, 'POST', `/v1/keys/${plain}/enable-export`, {});
    expect([notExportable.status, problemType(notExportable)]).toEqual([422, 'invalid']);
    expect([(await material(plain, cert)).status, problemType(await material(plain, cert))]).toEqual([409, 'key-unusable']);

    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const refused = await material(keyId, cert, weak);
    expect([refused.status, problemType(refused)]).toEqual([422, 'weak-wrapping-key']);
    // Exponent 1 would make the RSA "wrap" the identity: the OAEP-encoded material, which anyone can decode.
    const identity = createPublicKey({ key: { ...publicKey.export({ format: 'jwk' }), e: 'AQ' }, format: 'jwk' });
    const exponentOne = await material(keyId, cert, identity.export({ type: 'spki', format: 'pem' }).toString());
    expect([exponentOne.status, problemType(exponentOne)]).toEqual([422, 'weak-wrapping-key']);
    expect(exponentOne.json<{ detail: string }>().detail).toMatch(/public exponent must be odd, at least 65537.*not 1$/);
    expect((await material(keyId, cert, 'not a key '.repeat(20))).status).toBe(400);
  });

  it('an unbound key-user with a valid certificate is still refused: release needs a bound principal', async () => {
    const loose = await stack.principal(alice, 'key-user');
    const answer = await stack.api.request('POST', '/v1/keys/key_whatever00001/material', {
      headers: { authorization: `Bearer ${loose}` },
      body: { publicKey: publicPem },
      clientCert: cert,
    });
    expect([answer.status, problemType(answer)]).toEqual([403, 'mtls-required']);
  });
});
