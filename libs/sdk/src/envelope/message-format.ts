import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { EnvelopeError } from './envelope-error';

/**
 * A Keyward envelope message (the SDK's envelope helper and `keyward encrypt` write it):
 *
 *   "KWE" ‖ format (u8 = 1) ‖ chunk bytes (u32 BE) ‖ message id (32) ‖ key commitment (32)
 *   ‖ wrapped data key length (u16 BE) ‖ wrapped data key (a Keyward ciphertext: key id and version inside)
 *   then frames: flags (u8, bit 0 = final) ‖ length (u32 BE) ‖ AES-256-GCM ciphertext ‖ tag (16)
 *
 * The message key and the key commitment are derived from the data key with HKDF-SHA256, salted
 * with the random message id, so a cached data key never reuses a (key, IV) pair across
 * messages; frame i is sealed with IV = i (96-bit big-endian) and AAD binding the SHA-256 of the
 * fixed header, the SHA-256 of the caller's AAD, i and the final flag: an altered, dropped,
 * duplicated or reordered frame fails, and a stream that ends before a final frame is truncated.
 * The commitment (checked in constant time) refuses a header whose wrapped key opens to another
 * data key. The wrapped data key is not under the frames' AAD, so rewrap replaces it without
 * touching the frames (key-api authenticates it, and the commitment binds what it opens to).
 */
export const ENVELOPE_MAGIC = Buffer.from('KWE', 'ascii');
export const ENVELOPE_FORMAT = 1;
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
export const MIN_CHUNK_BYTES = 1024;
export const MAX_CHUNK_BYTES = 4 * 1024 * 1024;
export const DATA_KEY_BYTES = 32;
export const TAG_BYTES = 16;
export const FRAME_PREFIX_BYTES = 5;
export const FINAL_FLAG = 0x01;
const MESSAGE_ID_BYTES = 32;
const COMMITMENT_BYTES = 32;
/** Magic, format, chunk bytes, message id, commitment. */
export const FIXED_HEADER_BYTES = ENVELOPE_MAGIC.length + 1 + 4 + MESSAGE_ID_BYTES + COMMITMENT_BYTES;
const MAX_WRAPPED_KEY_BYTES = 1024;
const MAX_FRAMES = 2 ** 32;

export interface EnvelopeHeader {
  readonly chunkBytes: number;
  readonly messageId: Buffer;
  readonly commitment: Buffer;
  readonly wrappedKey: Buffer;
  /** The fixed part's bytes (magic to commitment): what the frames' AAD binds. */
  readonly fixed: Buffer;
}

/** The per-message keys derived from a data key. */
export interface MessageKeys {
  readonly encryption: Buffer;
  readonly commitment: Buffer;
}

export function deriveMessageKeys(dataKey: Buffer, messageId: Buffer): MessageKeys {
  const derive = (label: string): Buffer => Buffer.from(hkdfSync('sha256', dataKey, messageId, `keyward/envelope/v1/${label}`, 32));
  return { encryption: derive('encryption'), commitment: derive('commitment') };
}

/** A new header (fresh message id) for a data key and its wrapped form. */
export function newHeader(
  dataKey: Buffer,
  wrappedKey: Buffer,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): { header: EnvelopeHeader; keys: MessageKeys } {
  if (!Number.isInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES)
    throw new RangeError(`chunkBytes must be a whole number from ${MIN_CHUNK_BYTES} to ${MAX_CHUNK_BYTES}`);
  if (wrappedKey.length === 0 || wrappedKey.length > MAX_WRAPPED_KEY_BYTES)
    throw new RangeError('wrapped data key has an impossible length');
  const messageId = randomBytes(MESSAGE_ID_BYTES);
  const keys = deriveMessageKeys(dataKey, messageId);
  const fixed = Buffer.alloc(FIXED_HEADER_BYTES);
  let at = ENVELOPE_MAGIC.copy(fixed, 0);
  at = fixed.writeUInt8(ENVELOPE_FORMAT, at);
  at = fixed.writeUInt32BE(chunkBytes, at);
  at += messageId.copy(fixed, at);
  keys.commitment.copy(fixed, at);
  return { header: { chunkBytes, messageId, commitment: keys.commitment, wrappedKey, fixed }, keys };
}

export function encodeHeader(header: EnvelopeHeader): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(header.wrappedKey.length, 0);
  return Buffer.concat([header.fixed, length, header.wrappedKey]);
}

/** The same message with another wrapped form of its data key (after a rewrap). */
export const withWrappedKey = (header: EnvelopeHeader, wrappedKey: Buffer): EnvelopeHeader => ({ ...header, wrappedKey });

/** Whether bytes start like an envelope message (as far as they go). */
export const looksLikeEnvelope = (bytes: Buffer): boolean =>
  bytes.subarray(0, ENVELOPE_MAGIC.length).equals(ENVELOPE_MAGIC.subarray(0, Math.min(bytes.length, ENVELOPE_MAGIC.length)));

/**
 * Reads a header from the start of `bytes`: the header and its length, undefined while more
 * bytes are needed; throws EnvelopeError for anything that is not a header of this format.
 */
export function parseHeader(bytes: Buffer): { header: EnvelopeHeader; length: number } | undefined {
  if (!looksLikeEnvelope(bytes)) throw new EnvelopeError('not-envelope', 'not a Keyward envelope message (no KWE signature)');
  if (bytes.length <= ENVELOPE_MAGIC.length) return undefined;
  const format = bytes.readUInt8(ENVELOPE_MAGIC.length);
  if (format !== ENVELOPE_FORMAT)
    throw new EnvelopeError('unsupported-format', `envelope format ${format}; this version reads format ${ENVELOPE_FORMAT}`);
  if (bytes.length < FIXED_HEADER_BYTES + 2) return undefined;
  const chunkBytes = bytes.readUInt32BE(ENVELOPE_MAGIC.length + 1);
  if (chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES)
    throw new EnvelopeError('tampered', `the header claims chunks of ${chunkBytes} bytes`);
  const wrappedLength = bytes.readUInt16BE(FIXED_HEADER_BYTES);
  if (wrappedLength === 0 || wrappedLength > MAX_WRAPPED_KEY_BYTES)
    throw new EnvelopeError('tampered', `the header claims a wrapped key of ${wrappedLength} bytes`);
  const length = FIXED_HEADER_BYTES + 2 + wrappedLength;
  if (bytes.length < length) return undefined;
  const fixed = Buffer.from(bytes.subarray(0, FIXED_HEADER_BYTES));
  const idAt = ENVELOPE_MAGIC.length + 5;
  return {
    header: {
      chunkBytes,
      messageId: fixed.subarray(idAt, idAt + MESSAGE_ID_BYTES),
      commitment: fixed.subarray(idAt + MESSAGE_ID_BYTES),
      wrappedKey: Buffer.from(bytes.subarray(FIXED_HEADER_BYTES + 2, length)),
      fixed,
    },
    length,
  };
}

/** The message keys of a header from its unwrapped data key; refuses a data key the header is not committed to. */
export function openHeader(header: EnvelopeHeader, dataKey: Buffer): MessageKeys {
  const keys = deriveMessageKeys(dataKey, header.messageId);
  if (!timingSafeEqual(keys.commitment, header.commitment)) {
    keys.encryption.fill(0);
    throw new EnvelopeError('wrong-data-key', 'the data key does not match the message (key commitment differs): the header was altered');
  }
  return keys;
}

/** Frame i's IV: i as a 96-bit big-endian number (the message key is used by one message only). */
export function frameIv(index: number): Buffer {
  if (index >= MAX_FRAMES) throw new RangeError('too many frames in one message');
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(index, 8);
  return iv;
}

const FRAME_LABEL = Buffer.from('keyward/envelope/v1/frame', 'ascii');

/** Frame i's AAD. */
export function frameAad(fixedDigest: Buffer, aadDigest: Buffer, index: number, final: boolean): Buffer {
  const position = Buffer.alloc(5);
  position.writeUInt32BE(index, 0);
  position.writeUInt8(final ? 1 : 0, 4);
  return Buffer.concat([FRAME_LABEL, fixedDigest, aadDigest, position]);
}

export const sha256 = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();
