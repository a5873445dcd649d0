import { createHash } from 'node:crypto';
import { ASYMMETRIC_KEY_TYPES, type AsymmetricKeyType } from '@keyward/domain';
import { parseBlob } from '../envelope/blob';
import { rsaDecryptBlob, rsaEncryptBlob } from '../envelope/rsa-oaep';
import { AuthenticationFailed } from '../errors';
import { keyCheckValue, matchesCheckValue, publicKeyCheckValue } from '../material/key-check-value';
import { generatePrivateKey, isPrivateKeyOfType, privateKeyOf, publicKeyDer, publicKeyOf, spkiDigest } from './key-pair';
import { publicKeyForms } from './public-key';
import { signsInThreadPool, signWith, signWithAsync, UnsupportedDigest, verifyWith } from './signatures';

jest.setTimeout(60_000);

const TYPES = Object.keys(ASYMMETRIC_KEY_TYPES).filter((t) => t !== 'RSA-4096' && t !== 'RSA-3072') as AsymmetricKeyType[];
const message = Buffer.from('the quick brown fox', 'utf8');
const keyed = { kek: Buffer.alloc(32, 1), tenantId: 'tnt_a', keyId: 'key_a' };

describe('asymmetric material: generate, check value, sign, verify', () => {
  const materials = new Map<AsymmetricKeyType, Buffer>();
  beforeAll(async () => {
    for (const t of TYPES) materials.set(t, await generatePrivateKey(t));
  });
  const material = (t: AsymmetricKeyType): Buffer => materials.get(t) ?? Buffer.alloc(0);

  it.each(TYPES)('%s: a PKCS#8 key of its type whose check value is the SPKI digest', (t) => {
    expect(isPrivateKeyOfType(material(t), t)).toBe(true);
    const kcv = publicKeyCheckValue(material(t));
    expect(kcv).toBe(`pk1.${spkiDigest(publicKeyDer(material(t)))}`);
    expect(kcv).toMatch(/^pk1\.[0-9a-f]{64}$/);
    expect(matchesCheckValue(kcv, material(t), keyed)).toBe(true);
    expect(matchesCheckValue(kcv, Buffer.alloc(32, 7), keyed)).toBe(false);
    expect(matchesCheckValue(keyCheckValue(Buffer.alloc(32, 7)), material(t), keyed)).toBe(false);
  });

  it('a material buffer is parsed once: its key objects are kept with it, a copy is parsed anew', () => {
    const m = material('EC-P256');
    expect(privateKeyOf(m)).toBe(privateKeyOf(m));
    expect(publicKeyOf(m)).toBe(publicKeyOf(m));
    const copy = Buffer.from(m);
    expect(privateKeyOf(copy)).not.toBe(privateKeyOf(m));
    expect(privateKeyOf(copy).equals(privateKeyOf(m))).toBe(true);
  });

  it('a key of another type is not of this type', () => {
    expect(isPrivateKeyOfType(material('EC-P256'), 'EC-P384')).toBe(false);
    expect(isPrivateKeyOfType(Buffer.alloc(32, 1), 'ED25519')).toBe(false);
  });

  it.each(TYPES.flatMap((t) => ASYMMETRIC_KEY_TYPES[t].asymmetric.signatures.map((a) => [t, a] as const)))(
    '%s signs with %s; a changed message or signature does not verify',
    (t, algorithm) => {
      const spki = publicKeyDer(material(t));
      for (const format of ['der', 'ieee-p1363'] as const) {
        const signature = signWith(material(t), algorithm, { message }, format);
        expect(verifyWith(spki, algorithm, { message }, signature, format)).toBe(true);
        expect(verifyWith(spki, algorithm, { message: Buffer.from('other') }, signature, format)).toBe(false);
        const tampered = Buffer.from(signature);
        tampered[5] = (tampered[5] ?? 0) ^ 1;
        expect(verifyWith(spki, algorithm, { message }, tampered, format)).toBe(false);
        expect(verifyWith(spki, algorithm, { message }, Buffer.alloc(3), format)).toBe(false);
      }
    },
  );

  it('PKCS#1 v1.5 over a digest equals the signature over the message; other schemes refuse digests', () => {
    const digest = createHash('sha384').update(message).digest();
    const bySign = signWith(material('RSA-2048'), 'RSA-PKCS1-SHA384', { digest });
    expect(bySign.equals(signWith(material('RSA-2048'), 'RSA-PKCS1-SHA384', { message }))).toBe(true);
    const spki = publicKeyDer(material('RSA-2048'));
    expect(verifyWith(spki, 'RSA-PKCS1-SHA384', { digest }, bySign)).toBe(true);
    expect(verifyWith(spki, 'RSA-PKCS1-SHA384', { message }, bySign)).toBe(true);
    expect(() => signWith(material('RSA-2048'), 'RSA-PKCS1-SHA256', { digest })).toThrow(UnsupportedDigest);
    expect(() => signWith(material('EC-P256'), 'ECDSA-SHA256', { digest: digest.subarray(0, 32) })).toThrow(UnsupportedDigest);
  });

  it.each(TYPES.flatMap((t) => ASYMMETRIC_KEY_TYPES[t].asymmetric.signatures.map((a) => [t, a] as const)))(
    "%s with %s as a promise (RSA in the thread pool, any in a batch's): the signature verifies in either format",
    async (t, algorithm) => {
      expect(signsInThreadPool(algorithm)).toBe(t.startsWith('RSA-'));
      const spki = publicKeyDer(material(t));
      for (const format of ['der', 'ieee-p1363'] as const) {
        for (const placement of ['auto', 'pool'] as const) {
          const signature = await signWithAsync(material(t), algorithm, { message }, format, placement);
          expect(verifyWith(spki, algorithm, { message }, signature, format)).toBe(true);
          expect(verifyWith(spki, algorithm, { message: Buffer.from('other') }, signature, format)).toBe(false);
          if (format === 'ieee-p1363' && t.startsWith('EC-')) expect(signature.length).toBe(t === 'EC-P256' ? 64 : 96);
        }
      }
    },
  );

  it('as a promise too, a digest signs as PKCS#1 v1.5 only, and material may be zeroed as soon as signing starts', async () => {
    const digest = createHash('sha256').update(message).digest();
    const copy = Buffer.from(material('RSA-2048'));
    const pending = signWithAsync(copy, 'RSA-PKCS1-SHA256', { message });
    copy.fill(0);
    const signature = await pending;
    expect(signature.equals(await signWithAsync(material('RSA-2048'), 'RSA-PKCS1-SHA256', { digest }))).toBe(true);
    expect(verifyWith(publicKeyOf(material('RSA-2048')), 'RSA-PKCS1-SHA256', { digest }, signature)).toBe(true);
    await expect(signWithAsync(material('EC-P256'), 'ECDSA-SHA256', { digest })).rejects.toThrow(UnsupportedDigest);
    await expect(signWithAsync(Buffer.alloc(32, 1), 'ED25519', { message })).rejects.toThrow();
  });

  it('JWK and PEM forms name the key version', () => {
    const forms = publicKeyForms(publicKeyDer(material('EC-P256')), 'EC-P256', 'key_a:1');
    expect(forms.pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(forms.jwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: 'key_a:1', alg: 'ES256', use: 'sig' });
    expect(forms.jwk).not.toHaveProperty('d');
  });

  it('RSA-OAEP blobs open with the key, tenant and AAD they were made for, and nothing else', () => {
    const ref = { tenantId: 'tnt_a', keyId: 'key_a', version: 3 };
    const blob = rsaEncryptBlob(publicKeyDer(material('RSA-2048')), ref, message, Buffer.from('aad'));
    const parsed = parseBlob(blob);
    expect(parsed).toMatchObject({ algorithm: 'RSA-OAEP-SHA256', keyId: 'key_a', version: 3 });
    expect(rsaDecryptBlob(material('RSA-2048'), 'tnt_a', parsed, Buffer.from('aad')).equals(message)).toBe(true);
    expect(() => rsaDecryptBlob(material('RSA-2048'), 'tnt_a', parsed)).toThrow(AuthenticationFailed);
    expect(() => rsaDecryptBlob(material('RSA-2048'), 'tnt_b', parsed, Buffer.from('aad'))).toThrow(AuthenticationFailed);
    expect(() => rsaDecryptBlob(material('EC-P256'), 'tnt_a', parsed, Buffer.from('aad'))).toThrow(AuthenticationFailed);
    const changed = Buffer.from(blob);
    changed.writeUInt32BE(4, 5 + 'key_a'.length); // the header's version: part of the OAEP label
    expect(() => rsaDecryptBlob(material('RSA-2048'), 'tnt_a', parseBlob(changed), Buffer.from('aad'))).toThrow(AuthenticationFailed);
  });
});
