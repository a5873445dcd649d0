import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { publicKeyDer, publicKeyOf, publicKeyTypeOf, privateKeyOf, spkiOf } from './key-pair';
import {
  consistentRsaComponents,
  pkcs8OfRsaComponents,
  rsaPublicComponentsOf,
  spkiOfRsaComponents,
  type RsaPrivateComponents,
} from './rsa-components';

const integer = (b64: string | undefined): bigint => BigInt(`0x${Buffer.from(b64 ?? '', 'base64url').toString('hex')}`);

function componentsOf(bits: number): { components: RsaPrivateComponents; pair: ReturnType<typeof generateKeyPairSync> } {
  const pair = generateKeyPairSync('rsa', { modulusLength: bits });
  const jwk = pair.privateKey.export({ format: 'jwk' });
  return {
    pair,
    components: {
      modulus: integer(jwk.n),
      publicExponent: integer(jwk.e),
      privateExponent: integer(jwk.d),
      p: integer(jwk.p),
      q: integer(jwk.q),
      primeExponentP: integer(jwk.dp),
      primeExponentQ: integer(jwk.dq),
      crtCoefficient: integer(jwk.qi),
    },
  };
}

describe('RSA keys as integers (KMIP Transparent RSA keys)', () => {
  const { components, pair } = componentsOf(1024);

  it('eight consistent integers make the same private key, as PKCS#8', () => {
    const pkcs8 = pkcs8OfRsaComponents(components)!;
    const message = Buffer.from('message');
    const signature = sign('sha256', message, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
    expect(verify('sha256', message, pair.publicKey, signature)).toBe(true);
  });

  it.each([
    ['privateExponent', 2n],
    ['p', 2n],
    ['primeExponentP', 1n],
    ['primeExponentQ', 1n],
    ['crtCoefficient', 1n],
    ['modulus', 2n],
  ] as const)('refuses them when %s is off by %s (OpenSSL would import them and sign wrongly)', (field, delta) => {
    const changed = { ...components, [field]: components[field] + delta };
    expect(consistentRsaComponents(changed)).toBe(false);
    expect(pkcs8OfRsaComponents(changed)).toBeUndefined();
  });

  it('refuses zero and negative integers', () => {
    expect(pkcs8OfRsaComponents({ ...components, q: 0n })).toBeUndefined();
    expect(pkcs8OfRsaComponents({ ...components, publicExponent: -components.publicExponent })).toBeUndefined();
    expect(spkiOfRsaComponents({ modulus: 1n, publicExponent: 65537n })).toBeUndefined();
    expect(spkiOfRsaComponents({ modulus: components.modulus + 1n, publicExponent: 65537n })).toBeUndefined(); // even
  });

  it('two integers make the public key, and a public key gives them back', () => {
    const spki = spkiOfRsaComponents(components)!;
    expect(spki).toEqual(pair.publicKey.export({ format: 'der', type: 'spki' }));
    expect(rsaPublicComponentsOf(spki)).toEqual({ modulus: components.modulus, publicExponent: components.publicExponent });
  });
});

describe('a public key alone as material', () => {
  it('publicKeyOf takes SPKI material as it is, and privateKeyOf refuses it', () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
    expect(publicKeyDer(spki)).toEqual(spki);
    expect(publicKeyOf(spki).asymmetricKeyType).toBe('ec');
    expect(() => privateKeyOf(spki)).toThrow();
    const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(publicKeyDer(pkcs8)).toEqual(spki);
  });

  it('publicKeyTypeOf names the type of a public key Keyward holds, and nothing else', () => {
    const spkiOfPair = (pair: ReturnType<typeof generateKeyPairSync>) => pair.publicKey.export({ format: 'der', type: 'spki' });
    expect(publicKeyTypeOf(spkiOfPair(generateKeyPairSync('ec', { namedCurve: 'P-256' })))).toBe('EC-P256');
    expect(publicKeyTypeOf(spkiOfPair(generateKeyPairSync('rsa', { modulusLength: 1024 })))).toBe('RSA-1024');
    expect(publicKeyTypeOf(spkiOfPair(generateKeyPairSync('ed25519')))).toBe('ED25519');
    expect(publicKeyTypeOf(spkiOfPair(generateKeyPairSync('rsa', { modulusLength: 1536 })))).toBeUndefined();
    expect(publicKeyTypeOf(spkiOfPair(generateKeyPairSync('ec', { namedCurve: 'secp256k1' })))).toBeUndefined();
    expect(publicKeyTypeOf(Buffer.alloc(91, 1))).toBeUndefined();
  });

  it('spkiOf reads SPKI and PKCS#1 public keys, and nothing else', () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
    expect(spkiOf(pair.publicKey.export({ format: 'der', type: 'pkcs1' }), 'pkcs1')).toEqual(spki);
    expect(spkiOf(spki, 'spki')).toEqual(spki);
    expect(spkiOf(spki, 'pkcs1')).toBeUndefined();
    expect(createPublicKey({ key: spki, format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength).toBe(2048);
  });
});
