import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { publicKeyDer, spkiDigest } from '../asymmetric/key-pair';

const KCV_INPUT = Buffer.alloc(32, 0);

/**
 * Key check value: identifies material without revealing it (the first 8 bytes of
 * HMAC-SHA256 keyed by the material over a zero block). Safe to put in events and views for
 * random keys of 128 bits or more (which cannot be guessed); never for secrets a person chose
 * (see tenantCheckValue).
 */
export function keyCheckValue(material: Buffer): string {
  return createHmac('sha256', material).update(KCV_INPUT).digest().subarray(0, 8).toString('hex');
}

/** Marks a tenant-keyed check value (`t1.` + 16 hex characters); a plain one is 16 hex characters. */
export const TENANT_CHECK_VALUE_PREFIX = 't1.';

const TENANT_KCV_SALT = Buffer.from('keyward/check-value-key/v1', 'utf8');

/**
 * The check value of a SECRET key (material a caller chose: 1-190 bytes, often a password):
 * HMAC-SHA256 under a key derived by HKDF-SHA256 from the tenant KEK (info: the tenant id),
 * over the key id and the material, first 8 bytes. Computing or checking it needs the tenant
 * KEK, which only the key services ever hold unwrapped, so a reader of events, views or Kafka
 * cannot test guesses offline, and equal secrets in two keys (or two tenants) look unrelated.
 */
export function tenantCheckValue(kek: Buffer, tenantId: string, keyId: string, material: Buffer): string {
  const derived = Buffer.from(hkdfSync('sha256', kek, TENANT_KCV_SALT, Buffer.from(tenantId, 'utf8'), 32));
  try {
    const mac = createHmac('sha256', derived).update(`${keyId}\n`, 'utf8').update(material).digest();
    return `${TENANT_CHECK_VALUE_PREFIX}${mac.subarray(0, 8).toString('hex')}`;
  } finally {
    derived.fill(0);
  }
}

/** Marks the check value of a private key: `pk1.` + the SHA-256 of its public key (SPKI DER), 64 hex characters. */
export const PUBLIC_KEY_CHECK_VALUE_PREFIX = 'pk1.';

/**
 * The check value of asymmetric material (a PKCS#8 private key): the digest of its public key,
 * which is public, so the log may carry all of it and relying parties can compare it with the
 * public key they were given.
 */
export const publicKeyCheckValue = (material: Buffer): string => `${PUBLIC_KEY_CHECK_VALUE_PREFIX}${spkiDigest(publicKeyDer(material))}`;

/** Whether `material` has check value `kcv`, plain, tenant-keyed or of a public key (by its form), compared in constant time. */
export function matchesCheckValue(kcv: string, material: Buffer, keyed: { kek: Buffer; tenantId: string; keyId: string }): boolean {
  const actual = kcv.startsWith(TENANT_CHECK_VALUE_PREFIX)
    ? tenantCheckValue(keyed.kek, keyed.tenantId, keyed.keyId, material)
    : kcv.startsWith(PUBLIC_KEY_CHECK_VALUE_PREFIX)
      ? publicKeyCheckValueOrNone(material)
      : keyCheckValue(material);
  const [a, b] = [Buffer.from(actual, 'utf8'), Buffer.from(kcv, 'utf8')];
  return a.length === b.length && timingSafeEqual(a, b);
}

function publicKeyCheckValueOrNone(material: Buffer): string {
  try {
    return publicKeyCheckValue(material);
  } catch {
    return ''; // not a private key: matches no check value
  }
}
