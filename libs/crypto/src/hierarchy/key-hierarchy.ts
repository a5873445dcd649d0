import { randomBytes } from 'node:crypto';
import { openAesGcm, packSealed, sealAesGcm, unpackSealed } from '../aead/aes-gcm';

/** Size of the root key and of every tenant KEK (AES-256). */
export const KEK_BYTES = 32;

/** Which key version a piece of material belongs to: bound into the wrapping as AAD. */
export interface MaterialRef {
  readonly tenantId: string;
  readonly keyId: string;
  readonly version: number;
}

/** Length-prefixed fields, so that ("ab","c") and ("a","bc") never produce the same AAD. */
export function boundFields(...fields: readonly (string | number | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of fields) {
    const bytes = Buffer.isBuffer(field) ? field : Buffer.from(String(field), 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}

const kekAad = (tenantId: string): Buffer => boundFields('keyward/kek/v1', tenantId);
const materialAad = (ref: MaterialRef): Buffer => boundFields('keyward/material/v1', ref.tenantId, ref.keyId, ref.version);

export const newKek = (): Buffer => randomBytes(KEK_BYTES);

/** Root key → tenant KEK. The AAD binds the tenant, so a KEK cannot be moved to another tenant. */
export function wrapKek(rootKey: Buffer, tenantId: string, kek: Buffer): Buffer {
  return packSealed(sealAesGcm(rootKey, kek, kekAad(tenantId)));
}

export function unwrapKek(rootKey: Buffer, tenantId: string, wrapped: Buffer): Buffer {
  return openAesGcm(rootKey, unpackSealed(wrapped), kekAad(tenantId));
}

/** Tenant KEK → key-version material. The AAD binds tenant, key and version. */
export function wrapMaterial(kek: Buffer, ref: MaterialRef, material: Buffer): Buffer {
  return packSealed(sealAesGcm(kek, material, materialAad(ref)));
}

export function unwrapMaterial(kek: Buffer, ref: MaterialRef, wrapped: Buffer): Buffer {
  return openAesGcm(kek, unpackSealed(wrapped), materialAad(ref));
}
