import type { KeyObject } from 'node:crypto';

/** Smallest and largest RSA modulus a caller's wrapping key may have, in bits (the largest is OpenSSL's own limit). */
export const WRAPPING_KEY_MODULUS_BITS = { min: 2048, max: 16384 } as const;

const MIN_EXPONENT = 65537n; // 2^16 + 1
const EXPONENT_LIMIT = 1n << 256n;

/**
 * Why an RSA public key may not wrap exported material, or undefined when it may: RSA (not
 * RSA-PSS, EC, ...), a modulus of 2048 to 16384 bits, and a public exponent as FIPS 186-5 (and
 * NIST SP 800-56B) require, odd with 2^16 < e < 2^256. An exponent of 1 makes the "wrap" the
 * identity (the material in the clear); 3 invites small-exponent attacks; a huge one costs CPU.
 */
export function wrappingKeyFault(key: KeyObject): string | undefined {
  if (key.type !== 'public' || key.asymmetricKeyType !== 'rsa') return 'publicKey must be an RSA public key';
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < WRAPPING_KEY_MODULUS_BITS.min || bits > WRAPPING_KEY_MODULUS_BITS.max) {
    return `publicKey must have a modulus of ${WRAPPING_KEY_MODULUS_BITS.min} to ${WRAPPING_KEY_MODULUS_BITS.max} bits, not ${bits}`;
  }
  const e = key.asymmetricKeyDetails?.publicExponent ?? 0n;
  if (e < MIN_EXPONENT || e >= EXPONENT_LIMIT || e % 2n === 0n) {
    return `publicKey's public exponent must be odd, at least 65537 and below 2^256 (65537 is usual), not ${e < EXPONENT_LIMIT ? e.toString() : 'a larger one'}`;
  }
  return undefined;
}
