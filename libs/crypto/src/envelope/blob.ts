import { MalformedBlob } from '../errors';

/**
 * Keyward ciphertexts and MACs are self-describing binary blobs (sent as base64):
 *
 *   "kw" | format (1) | algorithm (1) | key-id length (1) | key id (ASCII) | key version (uint32 BE) | body
 *
 * The body is IV (12) ‖ tag (16) ‖ ciphertext for AES-128/192/256-GCM, the 32-byte tag for HMAC-SHA256,
 * and the RSA-OAEP-SHA256 ciphertext (modulus length) for RSA keys (envelope/rsa-oaep.ts).
 * The whole header is authenticated with the body (GCM AAD, MAC input, OAEP label), so changing any byte of it fails.
 */
export const BLOB_FORMAT = 1;
export const BLOB_ALGORITHMS = { 'AES-256-GCM': 1, 'HMAC-SHA256': 2, 'AES-128-GCM': 3, 'AES-192-GCM': 4, 'RSA-OAEP-SHA256': 16 } as const;
export type BlobAlgorithm = keyof typeof BLOB_ALGORITHMS;

/** The ciphertext algorithm of each AES key length, by material bytes. */
export const AES_BLOB_ALGORITHMS: Readonly<Record<number, BlobAlgorithm>> = { 16: 'AES-128-GCM', 24: 'AES-192-GCM', 32: 'AES-256-GCM' };

const MAGIC = Buffer.from('kw', 'ascii');
const MAX_KEY_ID = 64;
const KEY_ID = /^[A-Za-z0-9_]{1,64}$/;

export interface BlobHeader {
  readonly algorithm: BlobAlgorithm;
  readonly keyId: string;
  readonly version: number;
}

export interface ParsedBlob extends BlobHeader {
  /** The exact header bytes, authenticated together with the body. */
  readonly header: Buffer;
  readonly body: Buffer;
}

export function encodeHeader({ algorithm, keyId, version }: BlobHeader): Buffer {
  if (!KEY_ID.test(keyId)) throw new RangeError('key id is not blob-safe');
  if (!Number.isInteger(version) || version < 1 || version > 0xffffffff) throw new RangeError('key version out of range');
  const header = Buffer.alloc(MAGIC.length + 3 + keyId.length + 4);
  let at = MAGIC.copy(header, 0);
  at = header.writeUInt8(BLOB_FORMAT, at);
  at = header.writeUInt8(BLOB_ALGORITHMS[algorithm], at);
  at = header.writeUInt8(keyId.length, at);
  at += header.write(keyId, at, 'ascii');
  header.writeUInt32BE(version, at);
  return header;
}

const algorithmOf = (id: number): BlobAlgorithm | undefined =>
  (Object.keys(BLOB_ALGORITHMS) as BlobAlgorithm[]).find((name) => BLOB_ALGORITHMS[name] === id);

/** Splits a blob into header fields and body; throws MalformedBlob for anything that is not one. */
export function parseBlob(blob: Buffer): ParsedBlob {
  if (blob.length < MAGIC.length + 3 || !blob.subarray(0, MAGIC.length).equals(MAGIC)) throw new MalformedBlob('not a Keyward blob');
  const format = blob.readUInt8(2);
  if (format !== BLOB_FORMAT) throw new MalformedBlob(`unsupported blob format ${format}`);
  const algorithm = algorithmOf(blob.readUInt8(3));
  if (algorithm === undefined) throw new MalformedBlob(`unknown algorithm ${blob.readUInt8(3)}`);
  const idLength = blob.readUInt8(4);
  const headerLength = MAGIC.length + 3 + idLength + 4;
  if (idLength === 0 || idLength > MAX_KEY_ID || blob.length < headerLength) throw new MalformedBlob('truncated header');
  // latin1, not ascii: ascii decoding would clear the top bit and let non-ASCII bytes pass the check.
  const keyId = blob.toString('latin1', 5, 5 + idLength);
  if (!KEY_ID.test(keyId)) throw new MalformedBlob('bad key id');
  const version = blob.readUInt32BE(5 + idLength);
  if (version < 1) throw new MalformedBlob('bad key version');
  return { algorithm, keyId, version, header: blob.subarray(0, headerLength), body: blob.subarray(headerLength) };
}
