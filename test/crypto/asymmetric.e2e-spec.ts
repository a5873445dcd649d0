import { execFile, execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer } from '../support/service-process';
import { opensslVerifies } from '../support/openssl';

jest.setTimeout(300_000);

const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');
const b64url = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64url');
const problemType = (answer: HttpAnswer): string => answer.json<{ type: string }>().type.replace('urn:keyward:problem:', '');

type KeyType = 'RSA-2048' | 'RSA-3072' | 'RSA-4096' | 'EC-P256' | 'EC-P384' | 'ED25519';
const TYPES: readonly KeyType[] = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'EC-P256', 'EC-P384', 'ED25519'];
const RSA_ALGORITHMS = ['RSA-PSS-SHA256', 'RSA-PSS-SHA384', 'RSA-PSS-SHA512', 'RSA-PKCS1-SHA256', 'RSA-PKCS1-SHA384', 'RSA-PKCS1-SHA512'];
const ALGORITHMS: Record<KeyType, readonly string[]> = {
  'RSA-2048': RSA_ALGORITHMS,
  'RSA-3072': ['RSA-PSS-SHA256', 'RSA-PKCS1-SHA512'],
  'RSA-4096': ['RSA-PSS-SHA512', 'RSA-PKCS1-SHA256'],
  'EC-P256': ['ECDSA-SHA256'],
  'EC-P384': ['ECDSA-SHA384'],
  ED25519: ['ED25519'],
};

interface Signed {
  signature: string;
  keyId: string;
  version: number;
}
interface PublicKey {
  keyId: string;
  version: number;
  keyType: string;
  kcv: string;
  pem: string;
  jwk: Record<string, string>;
}

describe('asymmetric keys over REST: sign, verify, public keys, JWKS, RSA-OAEP (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  const dir = mkdtempSync(join(tmpdir(), 'kw-asym-'));
  let admin: string;
  let user: string;
  let auditor: string;
  const keys = new Map<KeyType, string>();
  const key = (t: KeyType): string => keys.get(t) ?? 'missing';

  const createKey = async (keyType: string, extra: Record<string, unknown> = {}): Promise<string> => {
    // RSA key generation takes seconds of CPU (RSA-4096 more on a loaded machine): a longer socket timeout.
    const body = { keyType, activate: true, ...extra };
    const answer = await stack.api.request('POST', '/v1/keys', { headers: { authorization: `Bearer ${admin}` }, body, timeoutMs: 120_000 });
    expect(answer.status).toBe(201);
    return answer.json<{ key: { keyId: string } }>().key.keyId;
  };
  const sign = (keyId: string, body: Record<string, unknown>, as = user) => stack.call(as, 'POST', `/v1/keys/${keyId}/sign`, body);
  const signed = async (keyId: string, body: Record<string, unknown>): Promise<Signed> => {
    const answer = await sign(keyId, body);
    expect(answer.status).toBe(200);
    return answer.json<Signed>();
  };
  const verify = (keyId: string, body: Record<string, unknown>, as = user) => stack.call(as, 'POST', `/v1/keys/${keyId}/verify`, body);
  const valid = async (keyId: string, body: Record<string, unknown>): Promise<boolean> => {
    const answer = await verify(keyId, body);
    expect(answer.status).toBe(200);
    return answer.json<{ valid: boolean }>().valid;
  };
  const publicKey = async (keyId: string, query = '', as = user): Promise<PublicKey> => {
    const answer = await stack.call(as, 'GET', `/v1/keys/${keyId}/public-key${query}`);
    expect(answer.status).toBe(200);
    return answer.json<PublicKey>();
  };
  const keyAction = (keyId: string, action: string, body?: unknown) => stack.call(admin, 'POST', `/v1/keys/${keyId}/${action}`, body);

  beforeAll(async () => {
    await stack.start();
    ({ adminKey: admin } = await stack.onboard('Asymmetric Corp'));
    user = await stack.principal(admin, 'key-user');
    auditor = await stack.principal(admin, 'auditor');
    for (const t of TYPES) keys.set(t, await createKey(t));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await stack.stop();
  });

  describe('signatures that openssl verifies with the PEM from /public-key', () => {
    const cells = TYPES.flatMap((t) => ALGORITHMS[t].map((a) => [t, a] as const));
    it.each(cells)('%s signs with %s', async (t, algorithm) => {
      const message = Buffer.from(`a message for ${t} ${algorithm}`, 'utf8');
      const { signature, keyId, version } = await signed(key(t), { message: b64(message), algorithm });
      expect([keyId, version]).toEqual([key(t), 1]);
      const { pem, kcv } = await publicKey(key(t));
      expect(kcv).toBe(
        `pk1.${createHash('sha256')
          .update(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'))
          .digest('hex')}`,
      );
      expect(opensslVerifies(dir, pem, algorithm, message, Buffer.from(signature, 'base64'))).toBe(true);
      expect(opensslVerifies(dir, pem, algorithm, Buffer.from('another message'), Buffer.from(signature, 'base64'))).toBe(false);
      expect(await valid(key(t), { message: b64(message), algorithm, signature })).toBe(true);
    });

    it('a digest computed by openssl signs as PKCS#1 v1.5 and verifies as the message would', async () => {
      const message = Buffer.from('hashed elsewhere', 'utf8');
      writeFileSync(join(dir, 'm.bin'), message);
      const digest = execFileSync('openssl', ['dgst', '-sha256', '-binary', 'm.bin'], { cwd: dir });
      const { signature } = await signed(key('RSA-2048'), { digest: b64(digest), algorithm: 'RSA-PKCS1-SHA256' });
      const { pem } = await publicKey(key('RSA-2048'));
      expect(opensslVerifies(dir, pem, 'RSA-PKCS1-SHA256', message, Buffer.from(signature, 'base64'))).toBe(true);
      expect(await valid(key('RSA-2048'), { message: b64(message), algorithm: 'RSA-PKCS1-SHA256', signature })).toBe(true);
      expect(await valid(key('RSA-2048'), { digest: b64(digest), algorithm: 'RSA-PKCS1-SHA256', signature })).toBe(true);
    });

    it('ECDSA signatures in IEEE P1363 form verify in that form, and openssl reads the DER form', async () => {
      const message = b64('p1363');
      const { signature } = await signed(key('EC-P256'), { message, algorithm: 'ECDSA-SHA256', signatureFormat: 'ieee-p1363' });
      expect(Buffer.from(signature, 'base64')).toHaveLength(64);
      expect(await valid(key('EC-P256'), { message, algorithm: 'ECDSA-SHA256', signature, signatureFormat: 'ieee-p1363' })).toBe(true);
      expect(await valid(key('EC-P256'), { message, algorithm: 'ECDSA-SHA256', signature })).toBe(false);
    });

    it('a signature made by openssl with another key, or a tampered one, is valid: false', async () => {
      const message = Buffer.from('forged', 'utf8');
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(join(dir, 'other.pem'), other.privateKey.export({ format: 'pem', type: 'pkcs8' }));
      writeFileSync(join(dir, 'f.bin'), message);
      const forged = execFileSync('openssl', ['dgst', '-sha256', '-sign', 'other.pem', 'f.bin'], { cwd: dir });
      expect(await valid(key('EC-P256'), { message: b64(message), algorithm: 'ECDSA-SHA256', signature: b64(forged) })).toBe(false);
      const { signature } = await signed(key('ED25519'), { message: b64(message), algorithm: 'ED25519' });
      const tampered = Buffer.from(signature, 'base64');
      tampered[10] = (tampered[10] ?? 0) ^ 0x01;
      expect(await valid(key('ED25519'), { message: b64(message), algorithm: 'ED25519', signature: b64(tampered) })).toBe(false);
      expect(await valid(key('ED25519'), { message: b64('other'), algorithm: 'ED25519', signature })).toBe(false);
    });
  });

  describe('JWTs signed through /sign verify with jose against the tenant JWKS', () => {
    it.each([
      ['ES256', 'EC-P256', 'ECDSA-SHA256'],
      ['ES384', 'EC-P384', 'ECDSA-SHA384'],
      ['RS256', 'RSA-2048', 'RSA-PKCS1-SHA256'],
      ['EdDSA', 'ED25519', 'ED25519'],
    ] as const)('%s with a %s key', async (alg, t, algorithm) => {
      const kid = `${key(t)}:1`;
      const input = `${b64url(JSON.stringify({ alg, typ: 'JWT', kid }))}.${b64url(JSON.stringify({ sub: 'svc-42', iat: 1_700_000_000 }))}`;
      const { signature } = await signed(key(t), { message: b64(input), algorithm, signatureFormat: 'ieee-p1363' });
      const jwt = `${input}.${Buffer.from(signature, 'base64').toString('base64url')}`;
      const jwks = await stack.call(user, 'GET', '/v1/tenant/jwks');
      expect(jwks.status).toBe(200);
      expect(String(jwks.headers['content-type'])).toMatch(/^application\/jwk-set\+json/);
      const verified = JSON.parse(
        execFileSync('node', [join(__dirname, 'support', 'jwt-verify.mjs')], {
          input: JSON.stringify({ jwt, jwks: jwks.json() }),
          encoding: 'utf8',
        }),
      ) as { payload?: { sub: string }; kid?: string; error?: string };
      expect(verified).toEqual({ payload: { sub: 'svc-42', iat: 1_700_000_000 }, kid, alg });
      const forged = `${input}.${Buffer.from(signature, 'base64').reverse().toString('base64url')}`;
      const refused = JSON.parse(
        execFileSync('node', [join(__dirname, 'support', 'jwt-verify.mjs')], {
          input: JSON.stringify({ jwt: forged, jwks: jwks.json() }),
          encoding: 'utf8',
        }),
      ) as { error?: string };
      expect(refused.error).toMatch(/ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
    });

    it('the JWKS lists every version of Active asymmetric keys, no private parts, nothing symmetric', async () => {
      const aes = await createKey('AES-256-GCM');
      const jwks = (await stack.call(auditor, 'GET', '/v1/tenant/jwks')).json<{ keys: Record<string, string>[] }>();
      const kids = jwks.keys.map((k) => k.kid);
      for (const t of TYPES) expect(kids).toContain(`${key(t)}:1`);
      expect(kids.some((k) => k?.startsWith(aes))).toBe(false);
      for (const jwk of jwks.keys) expect(Object.keys(jwk).filter((k) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(k))).toEqual([]);
      expect(jwks.keys.find((k) => k.kid === `${key('EC-P384')}:1`)).toMatchObject({ kty: 'EC', crv: 'P-384', alg: 'ES384', use: 'sig' });
    });
  });

  describe('RSA-OAEP encryption', () => {
    it('encrypt returns a Keyward blob that /v1/decrypt opens (with its AAD only)', async () => {
      const enc = await stack.call(user, 'POST', `/v1/keys/${key('RSA-3072')}/encrypt`, { plaintext: b64('a data key'), aad: b64('ctx') });
      expect(enc.status).toBe(200);
      const { ciphertext, keyId, version } = enc.json<{ ciphertext: string; keyId: string; version: number }>();
      expect([keyId, version]).toEqual([key('RSA-3072'), 1]);
      const dec = await stack.call(user, 'POST', '/v1/decrypt', { ciphertext, aad: b64('ctx') });
      expect(dec.json()).toEqual({ plaintext: b64('a data key'), keyId, version: 1 });
      const wrongAad = await stack.call(user, 'POST', '/v1/decrypt', { ciphertext, aad: b64('other') });
      expect([wrongAad.status, problemType(wrongAad)]).toEqual([422, 'authentication-failed']);
    });

    it('more than the modulus carries is 413; EC and Ed25519 keys do not encrypt (422)', async () => {
      const big = await stack.call(user, 'POST', `/v1/keys/${key('RSA-2048')}/encrypt`, { plaintext: b64(Buffer.alloc(191)) });
      expect([big.status, problemType(big)]).toEqual([413, 'plaintext-too-large']);
      const fits = await stack.call(user, 'POST', `/v1/keys/${key('RSA-2048')}/encrypt`, { plaintext: b64(Buffer.alloc(190)) });
      expect(fits.status).toBe(200);
      for (const t of ['EC-P256', 'ED25519'] as const) {
        const refused = await stack.call(user, 'POST', `/v1/keys/${key(t)}/encrypt`, { plaintext: b64('x') });
        expect([refused.status, problemType(refused)]).toEqual([422, 'wrong-key-usage']);
      }
      const dataKey = await stack.call(user, 'POST', `/v1/keys/${key('RSA-2048')}/data-key`, {});
      expect([dataKey.status, problemType(dataKey)]).toEqual([422, 'wrong-key-usage']);
    });
  });

  describe('refusals', () => {
    it('wrong algorithm for the key type, both or neither input, digest with a scheme that has no prehash form', async () => {
      const wrong = await sign(key('EC-P256'), { message: b64('x'), algorithm: 'ECDSA-SHA384' });
      expect([wrong.status, problemType(wrong)]).toEqual([422, 'wrong-key-usage']);
      const rsaOnEc = await sign(key('ED25519'), { message: b64('x'), algorithm: 'RSA-PSS-SHA256' });
      expect(rsaOnEc.status).toBe(422);
      const both = await sign(key('EC-P256'), { message: b64('x'), digest: b64(Buffer.alloc(32)), algorithm: 'ECDSA-SHA256' });
      expect([both.status, problemType(both)]).toEqual([400, 'validation']);
      const neither = await sign(key('EC-P256'), { algorithm: 'ECDSA-SHA256' });
      expect(neither.status).toBe(400);
      const unknown = await sign(key('EC-P256'), { message: b64('x'), algorithm: 'ECDSA-MD5' });
      expect(unknown.status).toBe(400);
      const prehash = await sign(key('EC-P256'), { digest: b64(Buffer.alloc(32)), algorithm: 'ECDSA-SHA256' });
      expect([prehash.status, problemType(prehash)]).toEqual([422, 'unsupported-digest']);
      const shortDigest = await sign(key('RSA-2048'), { digest: b64(Buffer.alloc(31)), algorithm: 'RSA-PKCS1-SHA256' });
      expect([shortDigest.status, problemType(shortDigest)]).toEqual([422, 'unsupported-digest']);
      const aes = await createKey('AES-256-GCM');
      const symmetric = await sign(aes, { message: b64('x'), algorithm: 'ECDSA-SHA256' });
      expect([symmetric.status, problemType(symmetric)]).toEqual([422, 'wrong-key-usage']);
      const noPublic = await stack.call(user, 'GET', `/v1/keys/${aes}/public-key`);
      expect([noPublic.status, problemType(noPublic)]).toEqual([422, 'wrong-key-usage']);
    });

    it('roles: administrators and auditors do not sign or verify; auditors read public keys and the JWKS; admins do not', async () => {
      const body = { message: b64('x'), algorithm: 'ED25519' };
      expect((await sign(key('ED25519'), body, admin)).status).toBe(403);
      expect((await sign(key('ED25519'), body, auditor)).status).toBe(403);
      expect((await verify(key('ED25519'), { ...body, signature: b64(Buffer.alloc(64)) }, auditor)).status).toBe(403);
      expect((await publicKey(key('ED25519'), '', auditor)).keyType).toBe('ED25519');
      expect((await stack.call(admin, 'GET', `/v1/keys/${key('ED25519')}/public-key`)).status).toBe(403);
      expect((await stack.call('kw_not-a-key', 'GET', '/v1/tenant/jwks')).status).toBe(401);
    });

    it('another tenant sees none of these keys (404) and its JWKS holds none of them', async () => {
      const other = await stack.onboard('Other Asym');
      const otherUser = await stack.principal(other.adminKey, 'key-user');
      const answer = await sign(key('EC-P256'), { message: b64('x'), algorithm: 'ECDSA-SHA256' }, otherUser);
      expect([answer.status, problemType(answer)]).toEqual([404, 'not-found']);
      expect((await stack.call(otherUser, 'GET', `/v1/keys/${key('EC-P256')}/public-key`)).status).toBe(404);
      expect(
        (await verify(key('EC-P256'), { message: b64('x'), algorithm: 'ECDSA-SHA256', signature: b64('sig') }, otherUser)).status,
      ).toBe(404);
      expect((await stack.call(otherUser, 'GET', '/v1/tenant/jwks')).json()).toEqual({ keys: [] });
    });
  });

  describe('the CLI verbs keys sign, verify, public-key', () => {
    const repoRoot = join(__dirname, '..', '..');
    const keyward = (apiKey: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          [join(repoRoot, 'bin', 'keyward.mjs'), ...args, '--api-key', apiKey],
          {
            cwd: repoRoot,
            timeout: 60_000,
            env: { ...process.env, KEYWARD_URL: stack.api.baseUrl, KEYWARD_CA: join(stack.dataDir, 'tls', 'ca.crt') },
          },
          (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
        );
      });

    it('signs a file, verifies it (exit 0, or 2 for another file), and prints the PEM openssl verifies with', async () => {
      writeFileSync(join(dir, 'doc.txt'), 'a document to sign');
      writeFileSync(join(dir, 'other.txt'), 'another document');
      const signedRun = await keyward(user, [
        'keys',
        'sign',
        key('EC-P384'),
        '--algorithm',
        'ECDSA-SHA384',
        '--in',
        join(dir, 'doc.txt'),
        '--out',
        join(dir, 'doc.sig'),
        '--json',
      ]);
      expect({ code: signedRun.code, stderr: signedRun.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(signedRun.stdout)).toMatchObject({ keyId: key('EC-P384'), version: 1 });
      const ok = await keyward(user, [
        'keys',
        'verify',
        key('EC-P384'),
        '--algorithm',
        'ECDSA-SHA384',
        '--in',
        join(dir, 'doc.txt'),
        '--signature-file',
        join(dir, 'doc.sig'),
      ]);
      expect([ok.code, ok.stdout.trim()]).toEqual([0, `valid: signature of ${key('EC-P384')} version 1`]);
      const bad = await keyward(user, [
        'keys',
        'verify',
        key('EC-P384'),
        '--algorithm',
        'ECDSA-SHA384',
        '--in',
        join(dir, 'other.txt'),
        '--signature-file',
        join(dir, 'doc.sig'),
      ]);
      expect(bad.code).toBe(2);
      const pem = await keyward(auditor, ['keys', 'public-key', key('EC-P384')]);
      expect(pem.code).toBe(0);
      expect(opensslVerifies(dir, pem.stdout, 'ECDSA-SHA384', Buffer.from('a document to sign'), readFileSync(join(dir, 'doc.sig')))).toBe(
        true,
      );
      const jwk = await keyward(auditor, ['keys', 'public-key', key('EC-P384'), '--jwk']);
      expect(JSON.parse(jwk.stdout)).toMatchObject({ kty: 'EC', crv: 'P-384', kid: `${key('EC-P384')}:1` });
      const usage = await keyward(user, ['keys', 'sign', key('EC-P384'), '--algorithm', 'ECDSA-SHA384']);
      expect(usage.code).toBe(64);
      const refused = await keyward(admin, ['keys', 'sign', key('EC-P384'), '--algorithm', 'ECDSA-SHA384', '--message', 'x']);
      expect(refused.code).toBe(1);
    });
  });

  describe('lifecycle', () => {
    it('after rotation, old signatures verify with version; the JWKS has both versions; a Deactivated key verifies but does not sign', async () => {
      const keyId = await createKey('EC-P256');
      const message = b64('before rotation');
      const v1 = await signed(keyId, { message, algorithm: 'ECDSA-SHA256' });
      const pem1 = (await publicKey(keyId)).pem;
      expect((await keyAction(keyId, 'rotate')).status).toBe(200);
      const v2 = await signed(keyId, { message, algorithm: 'ECDSA-SHA256' });
      expect([v1.version, v2.version]).toEqual([1, 2]);
      expect(await valid(keyId, { message, algorithm: 'ECDSA-SHA256', signature: v1.signature, version: 1 })).toBe(true);
      expect(await valid(keyId, { message, algorithm: 'ECDSA-SHA256', signature: v1.signature })).toBe(false);
      expect((await publicKey(keyId, '?version=1')).pem).toBe(pem1);
      expect((await publicKey(keyId)).pem).not.toBe(pem1);
      const kids = (await stack.call(user, 'GET', '/v1/tenant/jwks')).json<{ keys: { kid: string }[] }>().keys.map((k) => k.kid);
      expect(kids).toEqual(expect.arrayContaining([`${keyId}:1`, `${keyId}:2`]));
      const missing = await stack.call(user, 'GET', `/v1/keys/${keyId}/public-key?version=9`);
      expect(missing.status).toBe(404);

      expect((await keyAction(keyId, 'deactivate')).status).toBe(200);
      const refused = await sign(keyId, { message, algorithm: 'ECDSA-SHA256' });
      expect([refused.status, problemType(refused)]).toEqual([409, 'key-unusable']);
      expect(await valid(keyId, { message, algorithm: 'ECDSA-SHA256', signature: v2.signature })).toBe(true);
      const jwksAfter = (await stack.call(user, 'GET', '/v1/tenant/jwks')).json<{ keys: { kid: string }[] }>().keys.map((k) => k.kid);
      expect(jwksAfter.some((k) => k.startsWith(keyId))).toBe(false);
    });

    it('a private key cannot be created exportable', async () => {
      const answer = await stack.call(admin, 'POST', '/v1/keys', { keyType: 'EC-P256', exportable: true });
      expect([answer.status, problemType(answer)]).toEqual([422, 'invalid']);
    });

    it('sign and verify leave usage records', async () => {
      const usage = await stack.call(auditor, 'GET', `/v1/audit/usage?keyId=${key('ED25519')}`);
      expect(usage.status).toBe(200);
      const operations = usage.json<{ items: { operation: string; outcome: string }[] }>().items.map((r) => `${r.operation}:${r.outcome}`);
      expect(operations).toEqual(expect.arrayContaining(['sign:ok', 'verify:ok']));
    });

    it('after destruction nothing signs, verifies or reads the public key; the keystore holds no private key', async () => {
      const keyId = await createKey('RSA-2048');
      const message = b64('doomed');
      const { signature } = await signed(keyId, { message, algorithm: 'RSA-PSS-SHA256' });
      expect((await keyAction(keyId, 'deactivate')).status).toBe(200);
      expect((await keyAction(keyId, 'schedule-destruction', { waitingPeriodDays: 1 })).status).toBe(200);
      await stack.restartApi({ KEYWARD_CLOCK_OFFSET_MS: String(2 * 86_400_000) });
      await stack.api.waitFor(
        async () => (await stack.call(admin, 'GET', `/v1/keys/${keyId}`)).json<{ state: string }>().state === 'Destroyed',
        60_000,
      );
      expect(await stack.db.collection('keystore').countDocuments({ keyId })).toBe(0);
      const signAfter = await sign(keyId, { message, algorithm: 'RSA-PSS-SHA256' });
      expect([signAfter.status, problemType(signAfter)]).toEqual([409, 'key-destroyed']);
      const verifyAfter = await verify(keyId, { message, algorithm: 'RSA-PSS-SHA256', signature });
      expect([verifyAfter.status, problemType(verifyAfter)]).toEqual([409, 'key-destroyed']);
      const pubAfter = await stack.call(user, 'GET', `/v1/keys/${keyId}/public-key`);
      expect([pubAfter.status, problemType(pubAfter)]).toEqual([409, 'key-destroyed']);
      await stack.restartApi();
    });
  });
});
