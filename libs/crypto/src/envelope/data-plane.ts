import { createHmac, timingSafeEqual } from 'node:crypto';
import { GCM_IV_BYTES, GCM_TAG_BYTES, openAnyAesGcm, sealAnyAesGcm } from '../aead/aes-gcm';
import { AuthenticationFailed, MalformedBlob } from '../errors';
import { boundFields, type MaterialRef } from '../hierarchy/key-hierarchy';
import { AES_BLOB_ALGORITHMS, encodeHeader, type BlobAlgorithm, type ParsedBlob } from './blob';

const MAC_BYTES = 32;
const EMPTY = Buffer.alloc(0);

/** The AAD of a ciphertext: tenant, the blob header and the caller's own AAD, each length-prefixed. */
const ciphertextAad = (tenantId: string, header: Buffer, aad: Buffer | undefined): Buffer =>
  boundFields('keyward/ciphertext/v1', tenantId, header, aad ?? EMPTY);

/** The blob algorithm of AES material (AES-128/192/256-GCM by its length). */
function aesAlgorithm(material: Buffer): BlobAlgorithm {
  const algorithm = AES_BLOB_ALGORITHMS[material.length];
  if (algorithm === undefined) throw new RangeError(`AES-GCM needs a 16-, 24- or 32-byte key, not ${material.length} bytes`);
  return algorithm;
}

/** Encrypts under one key version's material (AES-128/192/256-GCM by its length); returns the self-describing blob. */
export function encryptBlob(material: Buffer, ref: MaterialRef, plaintext: Buffer, aad?: Buffer): Buffer {
  const header = encodeHeader({ algorithm: aesAlgorithm(material), keyId: ref.keyId, version: ref.version });
  const sealed = sealAnyAesGcm(material, plaintext, ciphertextAad(ref.tenantId, header, aad));
  return Buffer.concat([header, sealed.iv, sealed.tag, sealed.ciphertext]);
}

/** Decrypts a parsed AES-GCM blob; AuthenticationFailed if any byte or the AAD differs, or the key is not of the blob's length. */
export function decryptBlob(material: Buffer, tenantId: string, blob: ParsedBlob, aad?: Buffer): Buffer {
  if (blob.algorithm === 'HMAC-SHA256') throw new MalformedBlob('not a ciphertext');
  if (AES_BLOB_ALGORITHMS[material.length] !== blob.algorithm) throw new AuthenticationFailed();
  if (blob.body.length < GCM_IV_BYTES + GCM_TAG_BYTES) throw new MalformedBlob('truncated ciphertext');
  const iv = blob.body.subarray(0, GCM_IV_BYTES);
  const tag = blob.body.subarray(GCM_IV_BYTES, GCM_IV_BYTES + GCM_TAG_BYTES);
  const ciphertext = blob.body.subarray(GCM_IV_BYTES + GCM_TAG_BYTES);
  return openAnyAesGcm(material, { iv, tag, ciphertext }, ciphertextAad(tenantId, blob.header, aad));
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
