import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { wrappingKeyFault } from './wrapping-key';

const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;

/** The 2048-bit key's modulus with another public exponent (big-endian bytes). */
function withExponent(exponent: bigint): KeyObject {
  let hex = exponent.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const jwk = rsa2048.export({ format: 'jwk' });
  return createPublicKey({ key: { ...jwk, e: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' });
}

describe('wrappingKeyFault (material export under a caller RSA key)', () => {
  it('accepts RSA keys of 2048 bits or more with exponent 65537 or another odd one below 2^256', () => {
    expect(wrappingKeyFault(rsa2048)).toBeUndefined();
    expect(wrappingKeyFault(generateKeyPairSync('rsa', { modulusLength: 3072 }).publicKey)).toBeUndefined();
    expect(wrappingKeyFault(withExponent(65539n))).toBeUndefined();
    expect(wrappingKeyFault(withExponent((1n << 255n) + 1n))).toBeUndefined();
  });

  it('refuses exponent 1 (the wrap would be the identity), 3, even exponents and exponents of 2^256 or more', () => {
    expect(wrappingKeyFault(withExponent(1n))).toMatch(/public exponent must be odd, at least 65537.*not 1$/);
    expect(wrappingKeyFault(withExponent(3n))).toMatch(/not 3$/);
    expect(wrappingKeyFault(withExponent(65536n))).toMatch(/not 65536$/);
    expect(wrappingKeyFault(withExponent(65535n))).toMatch(/not 65535$/);
    expect(wrappingKeyFault(withExponent((1n << 256n) + 1n))).toMatch(/not a larger one$/);
  });

  it('refuses small moduli, RSA-PSS, EC keys and private keys', () => {
    expect(wrappingKeyFault(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey)).toMatch(/2048 to 16384 bits, not 1024/);
    expect(wrappingKeyFault(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey)).toMatch(/must be an RSA public key/);
    expect(wrappingKeyFault(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).toMatch(/must be an RSA public key/);
    expect(wrappingKeyFault(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)).toMatch(/must be an RSA public key/);
  });
});
