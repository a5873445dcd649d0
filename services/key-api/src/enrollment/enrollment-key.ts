import { constants, createHash, createPublicKey, publicEncrypt, type KeyObject } from 'node:crypto';
import type { EnrollmentKey } from '@keyward/domain';
import { ProblemError } from '@keyward/platform';

/** How an API key is wrapped for a principal that enrolled with a public key. */
export const ENROLLMENT_WRAPPING = 'RSA-OAEP-SHA256';

const MIN_RSA_BITS = 2048;

const invalidKey = (detail: string): ProblemError => new ProblemError(422, 'invalid-public-key', 'Invalid public key', detail);

/** `sha256:<hex>` of a DER SubjectPublicKeyInfo. */
export function spkiFingerprint(spkiDer: Buffer): string {
  return `sha256:${createHash('sha256').update(spkiDer).digest('hex')}`;
}

/** An RSA public key (SPKI PEM, at least 2048 bits) as the log records it; 422 otherwise. */
export function parseEnrollmentPublicKey(pem: string): EnrollmentKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw invalidKey('enrollment.publicKey must be an RSA public key in SPKI PEM ("-----BEGIN PUBLIC KEY-----")');
  }
  if (key.asymmetricKeyType !== 'rsa') throw invalidKey('enrollment.publicKey must be an RSA key (RSA-OAEP-SHA256 wraps the API key)');
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const exponent = key.asymmetricKeyDetails?.publicExponent ?? 0n;
  if (bits < MIN_RSA_BITS) throw invalidKey(`enrollment.publicKey must have at least ${MIN_RSA_BITS} bits`);
  if (exponent < 65537n) throw invalidKey('enrollment.publicKey must have a public exponent of at least 65537');
  const der = key.export({ type: 'spki', format: 'der' });
  return { fingerprint: spkiFingerprint(der), spki: der.toString('base64') };
}

/** The API key encrypted with RSA-OAEP-SHA256 under the principal's public key (base64): only it can open it. */
export function wrapForEnrollment(key: EnrollmentKey, apiKey: string): string {
  const publicKey = createPublicKey({ key: Buffer.from(key.spki, 'base64'), format: 'der', type: 'spki' });
  return publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    Buffer.from(apiKey, 'utf8'),
  ).toString('base64');
}
