import { createCipheriv, createDecipheriv } from 'node:crypto';
import { AuthenticationFailed } from '../errors';
import { randomIv } from './random-iv';

export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;
const AES_256_KEY_BYTES = 32;

/** The AES-GCM cipher for each AES key length (key material of AES-128/192/256-GCM keys). */
const AES_GCM_CIPHERS: Readonly<Record<number, 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm'>> = {
  16: 'aes-128-gcm',
  24: 'aes-192-gcm',
  32: 'aes-256-gcm',
};

/** The node:crypto AES-GCM cipher name for a key of `bytes` bytes; RangeError for any other length. */
export function aesGcmCipher(bytes: number): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  const name = AES_GCM_CIPHERS[bytes];
  if (name === undefined) throw new RangeError(`AES-GCM needs a 16-, 24- or 32-byte key, not ${bytes} bytes`);
  return name;
}

export interface Sealed {
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

function requireKey(key: Buffer): void {
  if (key.length !== AES_256_KEY_BYTES) throw new RangeError(`AES-256-GCM needs a ${AES_256_KEY_BYTES}-byte key`);
}

/** AES-256-GCM with a fresh random 96-bit IV (OpenSSL through node:crypto). */
export function sealAesGcm(key: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  requireKey(key);
  return sealAnyAesGcm(key, plaintext, aad);
}

/** AES-GCM under a 128-, 192- or 256-bit key (the key material of data keys), fresh random 96-bit IV. */
export function sealAnyAesGcm(key: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  const iv = randomIv(GCM_IV_BYTES);
  const cipher = createCipheriv(aesGcmCipher(key.length), key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

/** Opens what `sealAesGcm` sealed; any changed byte (IV, tag, ciphertext, AAD, key) throws AuthenticationFailed. */
export function openAesGcm(key: Buffer, sealed: Sealed, aad: Buffer): Buffer {
  requireKey(key);
  return openAnyAesGcm(key, sealed, aad);
}

/** Opens what `sealAnyAesGcm` sealed, under a 128-, 192- or 256-bit key. */
export function openAnyAesGcm(key: Buffer, sealed: Sealed, aad: Buffer): Buffer {
  const cipherName = aesGcmCipher(key.length);
  if (sealed.iv.length !== GCM_IV_BYTES || sealed.tag.length !== GCM_TAG_BYTES) throw new AuthenticationFailed();
  const decipher = createDecipheriv(cipherName, key, sealed.iv, { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.tag);
  const plaintext = decipher.update(sealed.ciphertext);
  try {
    return Buffer.concat([plaintext, decipher.final()]);
  } catch {
    plaintext.fill(0);
    throw new AuthenticationFailed();
  }
}

/** iv ‖ tag ‖ ciphertext, for storing a sealed value as one binary field. */
export function packSealed(sealed: Sealed): Buffer {
  return Buffer.concat([sealed.iv, sealed.tag, sealed.ciphertext]);
}

export function unpackSealed(packed: Buffer): Sealed {
  if (packed.length < GCM_IV_BYTES + GCM_TAG_BYTES) throw new AuthenticationFailed();
  return {
    iv: packed.subarray(0, GCM_IV_BYTES),
    tag: packed.subarray(GCM_IV_BYTES, GCM_IV_BYTES + GCM_TAG_BYTES),
    ciphertext: packed.subarray(GCM_IV_BYTES + GCM_TAG_BYTES),
  };
}
