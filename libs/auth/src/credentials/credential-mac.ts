import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Role } from '@keyward/domain';

/**
 * Integrity of credential documents: each carries an HMAC-SHA256, under a key derived (HKDF) from
 * the root key, over the fields that say who a key is (id, tenant, principal, role, secret hash,
 * creation time). Whoever can write to MongoDB but does not hold the root key cannot add a
 * credential, nor turn a key-user's into a provider-admin's. Disabling a credential removes its MAC
 * (only the root key could put it back), so a revoked key cannot be re-enabled by a database write.
 */
const MAC_INFO = 'keyward/credential-mac/v1';

/** The fields a credential MAC covers. */
export interface MacFields {
  readonly _id: string;
  readonly tenantId: string;
  readonly principalId: string;
  readonly role: Role;
  readonly secretHash: string;
  readonly createdAt: string;
}

/** The credential MAC key derived from the root key (32 bytes; zero it when the root key goes). */
export function deriveCredentialMacKey(rootKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', rootKey, Buffer.alloc(0), MAC_INFO, 32));
}

/** HMAC-SHA256 (hex) over the covered fields, in a fixed order with lengths (no ambiguity). */
export function credentialMac(key: Buffer, doc: MacFields): string {
  const hmac = createHmac('sha256', key);
  for (const field of [MAC_INFO, doc._id, doc.tenantId, doc.principalId, doc.role, doc.secretHash, doc.createdAt]) {
    const bytes = Buffer.from(field, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hmac.update(length).update(bytes);
  }
  return hmac.digest('hex');
}

/** Constant-time check of a stored MAC; a missing or malformed one does not verify. */
export function credentialMacMatches(key: Buffer, doc: MacFields & { readonly mac?: string | null }): boolean {
  if (typeof doc.mac !== 'string' || !/^[0-9a-f]{64}$/.test(doc.mac)) return false;
  const expected = Buffer.from(credentialMac(key, doc), 'hex');
  return timingSafeEqual(expected, Buffer.from(doc.mac, 'hex'));
}
