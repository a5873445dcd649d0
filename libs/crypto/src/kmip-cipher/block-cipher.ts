import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import { AuthenticationFailed } from '../errors';

/**
 * The block ciphers KMIP's Encrypt and Decrypt run, with exactly the parameters the caller asked for:
 * nothing here picks a mode, a padding, an IV or a tag length on the caller's behalf (the KMIP door
 * decides defaults and refusals; see docs/kmip.md). Node's OpenSSL does the cryptography.
 */
export type BlockCipherAlgorithm = 'AES' | 'TDES';
export type BlockMode = 'ECB' | 'CBC' | 'CTR' | 'GCM';
export type BlockPadding = 'none' | 'pkcs5';

/** GCM limits of the KMIP door: IVs of 1-128 bytes, tags of 12-16 bytes (REST keeps 12 and 16). */
export const KMIP_GCM_IV_BYTES = { min: 1, max: 128, default: 12 } as const;
export const KMIP_GCM_TAG_BYTES = { min: 12, max: 16, default: 16 } as const;

/** A parameter the cipher cannot run with: the door answers it as Invalid Field (or Feature Not Supported). */
export class BlockCipherParameterError extends Error {
  constructor(
    readonly kind: 'invalid' | 'unsupported',
    message: string,
  ) {
    super(message);
    this.name = 'BlockCipherParameterError';
  }
}

export interface BlockCipherRequest {
  readonly algorithm: BlockCipherAlgorithm;
  readonly mode: BlockMode;
  readonly padding: BlockPadding;
  readonly key: Buffer;
  /** IV (CBC), initial counter block (CTR) or nonce (GCM); none for ECB. */
  readonly iv?: Buffer;
  /** GCM only. */
  readonly aad?: Buffer;
  /** GCM only: bytes. */
  readonly tagLength?: number;
}

const invalid = (message: string): never => {
  throw new BlockCipherParameterError('invalid', message);
};

export const blockBytes = (algorithm: BlockCipherAlgorithm): number => (algorithm === 'AES' ? 16 : 8);

/** The IV length a mode needs in bytes (GCM: the default nonce length), 0 for ECB. */
export function ivBytesFor(algorithm: BlockCipherAlgorithm, mode: BlockMode): number {
  if (mode === 'ECB') return 0;
  if (mode === 'GCM') return KMIP_GCM_IV_BYTES.default;
  return blockBytes(algorithm);
}

/** A fresh random IV for the mode (the server-generated IV/Counter/Nonce KMIP returns). */
export const randomIvFor = (algorithm: BlockCipherAlgorithm, mode: BlockMode, gcmIvBytes?: number): Buffer =>
  randomBytes(mode === 'GCM' ? (gcmIvBytes ?? KMIP_GCM_IV_BYTES.default) : ivBytesFor(algorithm, mode));

function cipherName(request: BlockCipherRequest): string {
  const { algorithm, mode, key } = request;
  if (algorithm === 'TDES') {
    if (key.length !== 24) invalid('a Triple DES key is 24 bytes');
    if (mode === 'ECB') return 'des-ede3';
    if (mode === 'CBC') return 'des-ede3-cbc';
    throw new BlockCipherParameterError('unsupported', `Triple DES runs in ECB or CBC mode, not ${mode}`);
  }
  if (![16, 24, 32].includes(key.length)) invalid('an AES key is 16, 24 or 32 bytes');
  return `aes-${key.length * 8}-${mode.toLowerCase()}`;
}

function checkParameters(request: BlockCipherRequest): void {
  const { mode, iv, padding, algorithm } = request;
  if (mode === 'ECB') {
    if (iv !== undefined) invalid('ECB takes no IV/Counter/Nonce');
  } else if (mode === 'GCM') {
    if (iv === undefined || iv.length < KMIP_GCM_IV_BYTES.min || iv.length > KMIP_GCM_IV_BYTES.max) {
      invalid(`a GCM IV/Counter/Nonce is ${KMIP_GCM_IV_BYTES.min}-${KMIP_GCM_IV_BYTES.max} bytes`);
    }
    const tag = request.tagLength ?? KMIP_GCM_TAG_BYTES.default;
    if (!Number.isInteger(tag) || tag < KMIP_GCM_TAG_BYTES.min || tag > KMIP_GCM_TAG_BYTES.max) {
      invalid(`a GCM tag is ${KMIP_GCM_TAG_BYTES.min}-${KMIP_GCM_TAG_BYTES.max} bytes`);
    }
  } else if (iv?.length !== blockBytes(algorithm)) {
    invalid(`${mode} needs an IV/Counter/Nonce of ${blockBytes(algorithm)} bytes`);
  }
  if (padding === 'pkcs5' && mode !== 'ECB' && mode !== 'CBC') invalid(`${mode} takes no padding`);
  if (mode !== 'GCM' && (request.aad !== undefined || request.tagLength !== undefined)) {
    invalid(`${mode} takes no additional data or tag`);
  }
}

function checkDataLength(request: BlockCipherRequest, length: number): void {
  const unpadded = (request.mode === 'ECB' || request.mode === 'CBC') && request.padding === 'none';
  if (unpadded && length % blockBytes(request.algorithm) !== 0) {
    invalid(`without padding, ${request.mode} data must be a multiple of ${blockBytes(request.algorithm)} bytes`);
  }
}

const gcmIv = (request: BlockCipherRequest): Buffer => request.iv ?? invalid('GCM needs an IV/Counter/Nonce');

/** Encrypts `data`; GCM also returns its tag (of `tagLength` bytes, 16 by default). */
export function blockEncrypt(request: BlockCipherRequest, data: Buffer): { data: Buffer; tag?: Buffer } {
  checkParameters(request);
  const name = cipherName(request);
  if (request.mode === 'GCM') {
    const tagLength = request.tagLength ?? KMIP_GCM_TAG_BYTES.default;
    const cipher = createCipheriv(name as CipherGCMTypes, request.key, gcmIv(request), { authTagLength: tagLength });
    if (request.aad !== undefined) cipher.setAAD(request.aad);
    const out = Buffer.concat([cipher.update(data), cipher.final()]);
    return { data: out, tag: cipher.getAuthTag() };
  }
  checkDataLength(request, data.length);
  const cipher = createCipheriv(name, request.key, request.iv ?? null);
  cipher.setAutoPadding(request.padding === 'pkcs5');
  return { data: Buffer.concat([cipher.update(data), cipher.final()]) };
}

/**
 * Decrypts `data`. A GCM tag that does not verify, or PKCS#5 padding that does not check, throws
 * AuthenticationFailed (the door answers Cryptographic Failure, saying nothing more).
 */
export function blockDecrypt(request: BlockCipherRequest, data: Buffer, tag?: Buffer): Buffer {
  checkParameters(request);
  const name = cipherName(request);
  if (request.mode === 'GCM') {
    if (tag === undefined) return invalid('GCM decryption needs the Authenticated Encryption Tag');
    if (tag.length !== (request.tagLength ?? tag.length) || tag.length < KMIP_GCM_TAG_BYTES.min || tag.length > KMIP_GCM_TAG_BYTES.max) {
      invalid(
        `the tag is ${tag.length} bytes; a GCM tag is ${KMIP_GCM_TAG_BYTES.min}-${KMIP_GCM_TAG_BYTES.max} bytes and as long as Tag Length`,
      );
    }
    const decipher = createDecipheriv(name as CipherGCMTypes, request.key, gcmIv(request), { authTagLength: tag.length });
    decipher.setAuthTag(tag);
    if (request.aad !== undefined) decipher.setAAD(request.aad);
    const out = decipher.update(data);
    try {
      return Buffer.concat([out, decipher.final()]);
    } catch {
      out.fill(0);
      throw new AuthenticationFailed();
    }
  }
  if (tag !== undefined) invalid(`${request.mode} takes no tag`);
  checkDataLength(request, data.length);
  if (request.padding === 'pkcs5' && data.length % blockBytes(request.algorithm) !== 0) {
    invalid(`${request.mode} ciphertext must be a multiple of ${blockBytes(request.algorithm)} bytes`);
  }
  const decipher = createDecipheriv(name, request.key, request.iv ?? null);
  decipher.setAutoPadding(request.padding === 'pkcs5');
  const out = decipher.update(data);
  try {
    return Buffer.concat([out, decipher.final()]);
  } catch {
    out.fill(0);
    throw new AuthenticationFailed();
  }
}

/** An encryption fed in parts (KMIP's Init/Final Indicators): each part's output at once, the tag at the end. */
export interface BlockEncryptStream {
  update(data: Buffer): Buffer;
  final(): { data: Buffer; tag?: Buffer };
}

/** Opens an encryption of several parts; OpenSSL keeps its own copy of the key, so the caller may zero `request.key`. */
export function blockEncryptStream(request: BlockCipherRequest): BlockEncryptStream {
  checkParameters(request);
  const name = cipherName(request);
  if (request.mode === 'GCM') {
    const cipher = createCipheriv(name as CipherGCMTypes, request.key, gcmIv(request), {
      authTagLength: request.tagLength ?? KMIP_GCM_TAG_BYTES.default,
    });
    if (request.aad !== undefined) cipher.setAAD(request.aad);
    return { update: (d) => cipher.update(d), final: () => ({ data: cipher.final(), tag: cipher.getAuthTag() }) };
  }
  const cipher = createCipheriv(name, request.key, request.iv ?? null);
  cipher.setAutoPadding(request.padding === 'pkcs5');
  let total = 0;
  return {
    update: (d) => {
      total += d.length;
      return cipher.update(d);
    },
    final: () => {
      checkDataLength(request, total);
      return { data: cipher.final() };
    },
  };
}
