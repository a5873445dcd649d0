import { hkdfSync } from 'node:crypto';
import { boundFields, type MaterialRef } from '../hierarchy/key-hierarchy';

/** The HKDF label of the key KMIP's raw AES-GCM operations use; REST never derives it. */
export const KMIP_AES_GCM_LABEL = 'keyward/kmip/aes-gcm/v1';

/**
 * The HKDF info of a version's KMIP subkey: the label, tenant, key id and version, each
 * length-prefixed (4-byte big-endian length, then the UTF-8 bytes; the version as decimal text).
 */
export const kmipSubkeyInfo = (ref: MaterialRef): Buffer => boundFields(KMIP_AES_GCM_LABEL, ref.tenantId, ref.keyId, ref.version);

/**
 * Key separation between REST and KMIP (finding 6): KMIP Encrypt and Decrypt take IVs from the
 * caller, so they must never run AES-GCM under the key REST's ciphertext blobs use (a chosen IV
 * would give a REST blob's keystream, a repeated one GCM's authentication key). They run under
 * this subkey instead: HKDF-SHA256 (RFC 5869, no salt) of the version's material with
 * `kmipSubkeyInfo(ref)`, as long as the material (AES-128/192/256 stays AES-128/192/256).
 * `use` gets the subkey, which is zeroed when it returns.
 */
export function withKmipAesGcmKey<T>(material: Buffer, ref: MaterialRef, use: (subkey: Buffer) => T): T {
  const subkey = Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), kmipSubkeyInfo(ref), material.length));
  try {
    return use(subkey);
  } finally {
    subkey.fill(0);
  }
}
