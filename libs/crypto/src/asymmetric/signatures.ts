import { constants, createPublicKey, KeyObject, privateEncrypt, publicDecrypt, sign, timingSafeEqual, verify } from 'node:crypto';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from '@keyward/domain';
import { privateKeyOf } from './key-pair';

/** ECDSA signature encoding: ASN.1 DER (OpenSSL, X.509) or IEEE P1363 r‖s (JOSE, WebCrypto). */
export type SignatureFormat = 'der' | 'ieee-p1363';

/** What is signed: the message itself, or its digest (hashed by the caller with the algorithm's hash). */
export type SignedInput = { readonly message: Buffer } | { readonly digest: Buffer };

/** Thrown for a digest that cannot be signed or verified with the algorithm (wrong length, or no prehash form). */
export class UnsupportedDigest extends Error {}

/** DigestInfo prefixes (RFC 8017 §9.2 note 1) for PKCS#1 v1.5 signatures of a precomputed digest. */
const DIGEST_INFO: Readonly<Record<string, Buffer>> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};
const DIGEST_BYTES: Readonly<Record<string, number>> = { sha256: 32, sha384: 48, sha512: 64 };

function keyOptions(algorithm: SignatureAlgorithm, format: SignatureFormat, verifying: boolean) {
  if (algorithm.startsWith('RSA-PSS-')) {
    // Signing: salt as long as the hash (RFC 8017's recommendation, JWS PS*); verifying: any salt length.
    return {
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: verifying ? constants.RSA_PSS_SALTLEN_AUTO : constants.RSA_PSS_SALTLEN_DIGEST,
    };
  }
  if (algorithm.startsWith('RSA-PKCS1-')) return { padding: constants.RSA_PKCS1_PADDING };
  if (algorithm.startsWith('ECDSA-')) return { dsaEncoding: format };
  return {};
}

/** The DigestInfo of a PKCS#1 v1.5 signature over a caller's digest; refuses other algorithms and wrong lengths. */
function digestInfo(algorithm: SignatureAlgorithm, digest: Buffer): Buffer {
  const hash = SIGNATURE_ALGORITHMS[algorithm].hash;
  if (!algorithm.startsWith('RSA-PKCS1-') || hash === null) {
    throw new UnsupportedDigest(`${algorithm} signs messages only; send the message instead of its digest`);
  }
  if (digest.length !== DIGEST_BYTES[hash])
    throw new UnsupportedDigest(`a ${hash} digest is ${DIGEST_BYTES[hash]} bytes, not ${digest.length}`);
  return Buffer.concat([DIGEST_INFO[hash] as Buffer, digest]);
}

/** Signs with PKCS#8 DER private-key material. */
export function signWith(material: Buffer, algorithm: SignatureAlgorithm, input: SignedInput, format: SignatureFormat = 'der'): Buffer {
  const key = privateKeyOf(material);
  if ('digest' in input) {
    // PKCS#1 v1.5 of a digest is the RSA private operation on its DigestInfo (what OpenSSL's pkeyutl does).
    return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo(algorithm, input.digest));
  }
  return sign(SIGNATURE_ALGORITHMS[algorithm].hash, input.message, { key, ...keyOptions(algorithm, format, false) });
}

/**
 * Whether a signature is worth handing to libuv's thread pool: an RSA private operation (about 1 ms
 * at 2048 bits, more above) is, and the event loop serves other requests meanwhile, on another core
 * if there is one; an ECDSA or EdDSA signature (tens of µs) costs less than the hand-over, which
 * adds CPU (about 8 µs a signature on the 2-core bench machine) and latency.
 */
export const signsInThreadPool = (algorithm: SignatureAlgorithm): boolean => algorithm.startsWith('RSA-');

/**
 * Where signWithAsync signs: `auto` follows signsInThreadPool (one signature per request); `pool`
 * sends every signature of a message to the thread pool, which pays for a batch of ECDSA or EdDSA
 * signatures: the pool's threads sign them on both cores while the event loop parses, encodes and
 * answers other requests, where in line they would run one after another on the loop's core.
 */
export type SignPlacement = 'auto' | 'pool';

/**
 * signWith as a promise: RSA signatures of a message run in libuv's thread pool (Node's callback
 * form of crypto.sign), the others (and PKCS#1 v1.5 of a caller's digest) on the calling thread
 * (signsInThreadPool), unless `placement` is `pool` (batches: every signature of a message there). The private key is parsed (or found parsed, see privateKeyOf) before this
 * returns, so `material` may be reused, zeroed or dropped at once.
 */
export function signWithAsync(
  material: Buffer,
  algorithm: SignatureAlgorithm,
  input: SignedInput,
  format: SignatureFormat = 'der',
  placement: SignPlacement = 'auto',
): Promise<Buffer> {
  try {
    const key = privateKeyOf(material);
    const inPool = placement === 'pool' || signsInThreadPool(algorithm);
    if ('digest' in input || !inPool) return Promise.resolve(signWith(material, algorithm, input, format));
    const options = { key, ...keyOptions(algorithm, format, false) };
    return new Promise((resolve, reject) => {
      sign(SIGNATURE_ALGORITHMS[algorithm].hash, input.message, options, (err, signature) => (err ? reject(err) : resolve(signature)));
    });
  } catch (err: unknown) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** Verifies with a public key (a KeyObject, or SPKI DER); false for any signature that does not verify, malformed ones included. */
export function verifyWith(
  publicKey: KeyObject | Buffer,
  algorithm: SignatureAlgorithm,
  input: SignedInput,
  signature: Buffer,
  format: SignatureFormat = 'der',
): boolean {
  const key = publicKey instanceof KeyObject ? publicKey : createPublicKey({ key: publicKey, format: 'der', type: 'spki' });
  try {
    if ('digest' in input) {
      const expected = digestInfo(algorithm, input.digest);
      const recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
      return recovered.length === expected.length && timingSafeEqual(recovered, expected);
    }
    return verify(SIGNATURE_ALGORITHMS[algorithm].hash, input.message, { key, ...keyOptions(algorithm, format, true) }, signature);
  } catch (err: unknown) {
    if (err instanceof UnsupportedDigest) throw err;
    return false;
  }
}
