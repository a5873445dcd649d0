import { constants, createPublicKey, KeyObject, privateDecrypt, publicEncrypt } from 'node:crypto';
import { privateKeyOf } from '../asymmetric/key-pair';
import { AuthenticationFailed, MalformedBlob } from '../errors';
import { boundFields, type MaterialRef } from '../hierarchy/key-hierarchy';
import { encodeHeader, type ParsedBlob } from './blob';

const EMPTY = Buffer.alloc(0);
const HASH_BYTES = 32;

/**
 * The OAEP label of a ciphertext: tenant, blob header and the caller's AAD, length-prefixed (as the
 * AES-GCM AAD is). RSA-OAEP checks the label's hash on decryption, so the header and AAD are bound.
 */
const oaepLabel = (tenantId: string, header: Buffer, aad: Buffer | undefined): Buffer =>
  boundFields('keyward/rsa-oaep/v1', tenantId, header, aad ?? EMPTY);

/** Most plaintext RSA-OAEP-SHA256 carries under a modulus of `modulusBits`: k - 2·hLen - 2 bytes. */
export const rsaOaepCapacity = (modulusBits: number): number => Math.floor(modulusBits / 8) - 2 * HASH_BYTES - 2;

/** Encrypts under the public key (a KeyObject, or SPKI DER) of one RSA key version; returns the self-describing blob. */
export function rsaEncryptBlob(publicKey: KeyObject | Buffer, ref: MaterialRef, plaintext: Buffer, aad?: Buffer): Buffer {
  const header = encodeHeader({ algorithm: 'RSA-OAEP-SHA256', keyId: ref.keyId, version: ref.version });
  const key = publicKey instanceof KeyObject ? publicKey : createPublicKey({ key: publicKey, format: 'der', type: 'spki' });
  const body = publicEncrypt(
    { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: oaepLabel(ref.tenantId, header, aad) },
    plaintext,
  );
  return Buffer.concat([header, body]);
}

/** Decrypts an RSA-OAEP blob with PKCS#8 DER material; AuthenticationFailed if any byte, the AAD or the key differs. */
export function rsaDecryptBlob(material: Buffer, tenantId: string, blob: ParsedBlob, aad?: Buffer): Buffer {
  if (blob.algorithm !== 'RSA-OAEP-SHA256') throw new MalformedBlob('not an RSA-OAEP ciphertext');
  try {
    const key = privateKeyOf(material);
    return privateDecrypt(
      { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: oaepLabel(tenantId, blob.header, aad) },
      blob.body,
    );
  } catch {
    throw new AuthenticationFailed();
  }
}
