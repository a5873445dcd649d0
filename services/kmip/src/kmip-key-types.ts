import { isAsymmetricKeyType, type AsymmetricKeyType, type KeyType } from '@keyward/domain';
import { CryptographicAlgorithm, HashingAlgorithm, RecommendedCurve } from '@keyward/kmip';
import type { BlockCipherAlgorithm, DigestName } from '@keyward/crypto';

/** How KMIP names each key type: its Cryptographic Algorithm and Length (bits), and what runs it. */
interface KmipKeyType {
  readonly algorithm: number;
  readonly bits: number;
  /** Encryption keys: the block cipher. */
  readonly cipher?: BlockCipherAlgorithm;
  /** HMAC keys: the hash, as a KMIP Hashing Algorithm and by name. */
  readonly hmac?: { readonly hashing: number; readonly digest: DigestName };
}

const { AES, TRIPLE_DES, HMAC_SHA1, HMAC_SHA224, HMAC_SHA256, HMAC_SHA384, HMAC_SHA512 } = CryptographicAlgorithm;

/** The one table of KMIP key types (SECRET keys are Secret Data, CERTIFICATE keys Certificates: no algorithm, no length). */
export const KMIP_KEY_TYPES: Readonly<Record<Exclude<KeyType, 'SECRET' | 'CERTIFICATE' | AsymmetricKeyType>, KmipKeyType>> = {
  'AES-128-GCM': { algorithm: AES, bits: 128, cipher: 'AES' },
  'AES-192-GCM': { algorithm: AES, bits: 192, cipher: 'AES' },
  'AES-256-GCM': { algorithm: AES, bits: 256, cipher: 'AES' },
  'TDES-168': { algorithm: TRIPLE_DES, bits: 168, cipher: 'TDES' },
  'HMAC-SHA1': { algorithm: HMAC_SHA1, bits: 160, hmac: { hashing: HashingAlgorithm.SHA_1, digest: 'SHA-1' } },
  'HMAC-SHA224': { algorithm: HMAC_SHA224, bits: 224, hmac: { hashing: HashingAlgorithm.SHA_224, digest: 'SHA-224' } },
  'HMAC-SHA256': { algorithm: HMAC_SHA256, bits: 256, hmac: { hashing: HashingAlgorithm.SHA_256, digest: 'SHA-256' } },
  'HMAC-SHA384': { algorithm: HMAC_SHA384, bits: 384, hmac: { hashing: HashingAlgorithm.SHA_384, digest: 'SHA-384' } },
  'HMAC-SHA512': { algorithm: HMAC_SHA512, bits: 512, hmac: { hashing: HashingAlgorithm.SHA_512, digest: 'SHA-512' } },
};

const { RSA, ECDSA, EC, Ed25519 } = CryptographicAlgorithm;

/** How KMIP names an asymmetric key type: the algorithm Get and Get Attributes report, and the curve. */
interface KmipPairType {
  readonly algorithm: number;
  /** The modulus (RSA) or the curve's size. */
  readonly bits: number;
  readonly curve?: number;
  /** Algorithms a Create Key Pair may name the type with (EC keys: ECDSA or EC). */
  readonly named: readonly number[];
  /** Ed25519 is a KMIP 2.0 algorithm. */
  readonly kmip2?: true;
}

/** The one table of KMIP key pair types (docs/kmip.md, "Key pairs"). */
export const KMIP_PAIR_TYPES: Readonly<Record<AsymmetricKeyType, KmipPairType>> = {
  'RSA-1024': { algorithm: RSA, bits: 1024, named: [RSA] },
  'RSA-2048': { algorithm: RSA, bits: 2048, named: [RSA] },
  'RSA-3072': { algorithm: RSA, bits: 3072, named: [RSA] },
  'RSA-4096': { algorithm: RSA, bits: 4096, named: [RSA] },
  'EC-P256': { algorithm: ECDSA, bits: 256, curve: RecommendedCurve.P_256, named: [ECDSA, EC] },
  'EC-P384': { algorithm: ECDSA, bits: 384, curve: RecommendedCurve.P_384, named: [ECDSA, EC] },
  ED25519: { algorithm: Ed25519, bits: 256, curve: RecommendedCurve.CURVE25519, named: [Ed25519], kmip2: true },
};

/** Algorithm and length of every key type but secret data (asymmetric types: those of KMIP_PAIR_TYPES). */
export const kmipKeyType = (keyType: KeyType): KmipKeyType | undefined =>
  keyType === 'SECRET' || keyType === 'CERTIFICATE'
    ? undefined
    : isAsymmetricKeyType(keyType)
      ? KMIP_PAIR_TYPES[keyType]
      : KMIP_KEY_TYPES[keyType];

/**
 * The key type a Create Key Pair asks for: the algorithm, and the length or the curve (a curve and
 * a length must agree). Ed25519 only in KMIP 2.0, where it is an algorithm.
 */
export function pairTypeFor(algorithm: number | undefined, bits: number | undefined, curve: number | undefined, kmip2: boolean) {
  const found = (Object.entries(KMIP_PAIR_TYPES) as [AsymmetricKeyType, KmipPairType][]).find(
    ([, t]) =>
      algorithm !== undefined &&
      t.named.includes(algorithm) &&
      (t.kmip2 !== true || kmip2) &&
      (bits === undefined || bits === t.bits) &&
      (curve === undefined || curve === t.curve) &&
      (bits !== undefined || curve !== undefined || t.algorithm === Ed25519),
  );
  return found?.[0];
}

/** What Create Key Pair accepts, for refusal messages. */
export const SUPPORTED_KEY_PAIRS =
  'RSA 2048/3072/4096 (1024: legacy), ECDSA or EC on P-256 or P-384 (by length or Recommended Curve), Ed25519 (KMIP 2.0)';

/**
 * The key type a Create or Register asks for: the algorithm and length must name one exactly (no
 * length: AES-256, and the HMAC's or 3DES's only length; 3DES also as 192 bits, its size with parity).
 */
export function keyTypeFor(algorithm: number | undefined, bits: number | undefined): KeyType | undefined {
  const candidates = (Object.entries(KMIP_KEY_TYPES) as [KeyType, KmipKeyType][]).filter(([, t]) => t.algorithm === algorithm);
  if (bits === undefined) {
    if (algorithm === AES) return 'AES-256-GCM';
    return candidates.length === 1 ? candidates[0]?.[0] : undefined;
  }
  if (algorithm === TRIPLE_DES && bits === 192) return 'TDES-168';
  return candidates.find(([, t]) => t.bits === bits)?.[0];
}

/** What Create and Register accept, for refusal messages. */
export const SUPPORTED_SYMMETRIC_KEYS =
  'AES 128/192/256, HMAC-SHA1 (160), HMAC-SHA224 (224), HMAC-SHA256 (256), HMAC-SHA384 (384), HMAC-SHA512 (512) or 3DES (168)';
