import { createHmac, timingSafeEqual } from 'node:crypto';
import { GCM_IV_BYTES, GCM_TAG_BYTES, openAesGcm, sealAesGcm } from '../aead/aes-gcm';
import { AuthenticationFailed, MalformedBlob } from '../errors';
import { boundFields, type MaterialRef } from '../hierarchy/key-hierarchy';
import { encodeHeader, type ParsedBlob } from './blob';

const MAC_BYTES = 32;
const EMPTY = Buffer.alloc(0);

/** The AAD of a ciphertext: tenant, the blob header and the caller's own AAD, each length-prefixed. */
const ciphertextAad = (tenantId: string, header: Buffer, aad: Buffer | undefined): Buffer =>
  boundFields('keyward/ciphertext/v1', tenantId, header, aad ?? EMPTY);

/** Encrypts under one key version's material; returns the self-describing blob. */
export function encryptBlob(material: Buffer, ref: MaterialRef, plaintext: Buffer, aad?: Buffer): Buffer {
  const header = encodeHeader({ algorithm: 'AES-256-GCM', keyId: ref.keyId, version: ref.version });
  const sealed = sealAesGcm(material, plaintext, ciphertextAad(ref.tenantId, header, aad));
  return Buffer.concat([header, sealed.iv, sealed.tag, sealed.ciphertext]);
}

/** Decrypts a parsed AES-256-GCM blob; AuthenticationFailed if any byte or the AAD differs. */
export function decryptBlob(material: Buffer, tenantId: string, blob: ParsedBlob, aad?: Buffer): Buffer {
  if (blob.algorithm !== 'AES-256-GCM') throw new MalformedBlob('not a ciphertext');
  if (blob.body.length < GCM_IV_BYTES + GCM_TAG_BYTES) throw new MalformedBlob('truncated ciphertext');
  const iv = blob.body.subarray(0, GCM_IV_BYTES);
  const tag = blob.body.subarray(GCM_IV_BYTES, GCM_IV_BYTES + GCM_TAG_BYTES);
  const ciphertext = blob.body.subarray(GCM_IV_BYTES + GCM_TAG_BYTES);
  return openAesGcm(material, { iv, tag, ciphertext }, ciphertextAad(tenantId, blob.header, aad));
}

function macTag(material: Buffer, tenantId: string, header: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', material)
    .update(boundFields('keyward/mac/v1', tenantId, header, data))
    .digest();
}

/** HMAC-SHA256 of `data` under one key version; returns the self-describing MAC blob. */
export function macBlob(material: Buffer, ref: MaterialRef, data: Buffer): Buffer {
  const header = encodeHeader({ algorithm: 'HMAC-SHA256', keyId: ref.keyId, version: ref.version });
  return Buffer.concat([header, macTag(material, ref.tenantId, header, data)]);
}

/** Constant-time check of a parsed MAC blob against `data`. */
export function verifyMacBlob(material: Buffer, tenantId: string, blob: ParsedBlob, data: Buffer): boolean {
  if (blob.algorithm !== 'HMAC-SHA256') throw new MalformedBlob('not a MAC');
  if (blob.body.length !== MAC_BYTES) return false;
  return timingSafeEqual(macTag(material, tenantId, blob.header, data), blob.body);
}

export { AuthenticationFailed };
