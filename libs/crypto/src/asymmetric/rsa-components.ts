import { createPrivateKey, createPublicKey } from 'node:crypto';

/** An RSA public key as its two integers (KMIP's Transparent RSA Public Key). */
export interface RsaPublicComponents {
  readonly modulus: bigint;
  readonly publicExponent: bigint;
}

/** An RSA private key as its eight integers (KMIP's Transparent RSA Private Key, PKCS#1's RSAPrivateKey fields). */
export interface RsaPrivateComponents extends RsaPublicComponents {
  readonly privateExponent: bigint;
  readonly p: bigint;
  readonly q: bigint;
  readonly primeExponentP: bigint;
  readonly primeExponentQ: bigint;
  readonly crtCoefficient: bigint;
}

/** Unsigned big-endian bytes, base64url, as JWK writes integers. */
function base64url(value: bigint): string {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex').toString('base64url');
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/**
 * Whether eight integers make one RSA key: n = p·q, e·d ≡ 1 modulo lcm(p-1, q-1), and the CRT values
 * are d mod (p-1), d mod (q-1) and q⁻¹ mod p. OpenSSL imports inconsistent components without a word
 * and then signs wrongly, so a key service checks them before keeping the key.
 */
export function consistentRsaComponents(c: RsaPrivateComponents): boolean {
  const { modulus: n, publicExponent: e, privateExponent: d, p, q } = c;
  if ([n, e, d, p, q, c.primeExponentP, c.primeExponentQ, c.crtCoefficient].some((v) => v <= 0n)) return false;
  if (p <= 1n || q <= 1n || p * q !== n) return false;
  const lcm = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  return (
    (e * d) % lcm === 1n && c.primeExponentP === d % (p - 1n) && c.primeExponentQ === d % (q - 1n) && (c.crtCoefficient * q) % p === 1n % p
  );
}

/**
 * The private key of RSA components as PKCS#8 DER (Keyward's material form), built by Node's crypto
 * from a JWK; undefined when the components are not one consistent RSA key. The caller zeroes it.
 */
export function pkcs8OfRsaComponents(c: RsaPrivateComponents): Buffer | undefined {
  if (!consistentRsaComponents(c)) return undefined;
  try {
    const jwk = {
      kty: 'RSA',
      n: base64url(c.modulus),
      e: base64url(c.publicExponent),
      d: base64url(c.privateExponent),
      p: base64url(c.p),
      q: base64url(c.q),
      dp: base64url(c.primeExponentP),
      dq: base64url(c.primeExponentQ),
      qi: base64url(c.crtCoefficient),
    };
    return createPrivateKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'pkcs8' });
  } catch {
    return undefined;
  }
}

/** The public key of RSA components as SPKI DER; undefined when they are not an RSA public key. */
export function spkiOfRsaComponents(c: RsaPublicComponents): Buffer | undefined {
  if (c.modulus <= 1n || c.publicExponent <= 1n || c.modulus % 2n === 0n) return undefined;
  try {
    const jwk = { kty: 'RSA', n: base64url(c.modulus), e: base64url(c.publicExponent) };
    return createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** The components of an RSA public key (SPKI DER), as a Transparent RSA Public Key gives them. */
export function rsaPublicComponentsOf(spki: Buffer): RsaPublicComponents {
  const jwk = createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  const integer = (b64: string | undefined): bigint => BigInt(`0x${Buffer.from(b64 ?? '', 'base64url').toString('hex') || '0'}`);
  return { modulus: integer(jwk.n), publicExponent: integer(jwk.e) };
}
