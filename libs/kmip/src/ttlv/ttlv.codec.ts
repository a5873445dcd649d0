import { DEFAULT_TTLV_LIMITS, ItemType, KmipDecodeError, KmipEncodeError, type TtlvItem, type TtlvLimits } from './ttlv.types';

const HEADER = 8;
/** Recursion is bounded by the depth limit; this ceiling keeps any configuration far from the stack limit. */
const MAX_DEPTH_CEILING = 256;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A value's length rounded up to the 8-byte boundary, in plain arithmetic: lengths are unsigned
 * 32-bit values from the wire, and 32-bit bitwise operators would turn 0x80000000 and above into
 * negative numbers (a negative frame length once passed the size check and hung the reader).
 */
const padded = (length: number): number => length + ((8 - (length % 8)) % 8);

/**
 * Total byte length of the TTLV message whose 8-byte header starts `header`, padding included
 * (what a stream reader must wait for): always a number from 16 to `limits.maxMessageBytes`, or a
 * KmipDecodeError (not a structure, an empty structure, a length over the limit).
 */
export function ttlvFrameLength(header: Buffer, limits: TtlvLimits = DEFAULT_TTLV_LIMITS): number {
  if (header.length < HEADER) throw new KmipDecodeError('truncated header', header.length);
  const type = header.readUInt8(3);
  if (type !== ItemType.Structure) throw new KmipDecodeError('a message must be a structure', 3);
  const length = header.readUInt32BE(4);
  if (length === 0) throw new KmipDecodeError('empty message', 4);
  // Bounded before any arithmetic: length is at most 2^32 - 1 here, so no sum below can overflow either.
  if (length > limits.maxMessageBytes - HEADER) {
    throw new KmipDecodeError(`message of ${HEADER + length} bytes exceeds ${limits.maxMessageBytes}`, 4);
  }
  const total = HEADER + padded(length);
  if (total > limits.maxMessageBytes) throw new KmipDecodeError(`message of ${total} bytes exceeds ${limits.maxMessageBytes}`, 4);
  return total;
}

/** Decodes exactly one TTLV item spanning the whole buffer. Throws only KmipDecodeError. */
export function decodeTtlv(buffer: Buffer, limits: TtlvLimits = DEFAULT_TTLV_LIMITS): TtlvItem {
  if (buffer.length > limits.maxMessageBytes) {
    throw new KmipDecodeError(`message of ${buffer.length} bytes exceeds ${limits.maxMessageBytes}`, 0);
  }
  const [item, end] = decodeAt(buffer, 0, buffer.length, 1, Math.min(limits.maxDepth, MAX_DEPTH_CEILING));
  if (end !== buffer.length) throw new KmipDecodeError('trailing bytes after the message', end);
  return item;
}

function checkPadding(buffer: Buffer, from: number, to: number): void {
  for (let i = from; i < to; i++) if (buffer[i] !== 0) throw new KmipDecodeError('non-zero padding', i);
}

function fixed(length: number, expected: number, at: number, name: string): void {
  if (length !== expected) throw new KmipDecodeError(`${name} must have length ${expected}, not ${length}`, at);
}

function decodeAt(buffer: Buffer, offset: number, limit: number, depth: number, maxDepth: number): [TtlvItem, number] {
  if (limit - offset < HEADER) throw new KmipDecodeError('truncated item header', offset);
  const tag = buffer.readUIntBE(offset, 3);
  const type = buffer.readUInt8(offset + 3);
  const length = buffer.readUInt32BE(offset + 4);
  const start = offset + HEADER;
  // Bounded before use: what is left of the container, so that start + padded(length) stays small.
  if (length > limit - start) throw new KmipDecodeError(`item length ${length} overruns its container`, offset + 4);
  const end = start + padded(length);
  if (end > limit) throw new KmipDecodeError(`item length ${length} overruns its container`, offset + 4);
  const lengthAt = offset + 4;
  switch (type) {
    case ItemType.Structure: {
      if (depth > maxDepth) throw new KmipDecodeError(`structures nested deeper than ${maxDepth}`, offset);
      if (length % 8 !== 0) throw new KmipDecodeError('structure length must be a multiple of 8', lengthAt);
      const value: TtlvItem[] = [];
      let at = start;
      while (at < end) {
        const [child, next] = decodeAt(buffer, at, end, depth + 1, maxDepth);
        value.push(child);
        at = next;
      }
      return [{ tag, type, value }, end];
    }
    case ItemType.Integer:
      fixed(length, 4, lengthAt, 'Integer');
      checkPadding(buffer, start + 4, end);
      return [{ tag, type, value: buffer.readInt32BE(start) }, end];
    case ItemType.Enumeration:
      fixed(length, 4, lengthAt, 'Enumeration');
      checkPadding(buffer, start + 4, end);
      return [{ tag, type, value: buffer.readUInt32BE(start) }, end];
    case ItemType.Interval:
      fixed(length, 4, lengthAt, 'Interval');
      checkPadding(buffer, start + 4, end);
      return [{ tag, type, value: buffer.readUInt32BE(start) }, end];
    case ItemType.LongInteger:
      fixed(length, 8, lengthAt, 'Long Integer');
      return [{ tag, type, value: buffer.readBigInt64BE(start) }, end];
    case ItemType.DateTime:
      fixed(length, 8, lengthAt, 'Date-Time');
      return [{ tag, type, value: buffer.readBigInt64BE(start) }, end];
    case ItemType.Boolean: {
      fixed(length, 8, lengthAt, 'Boolean');
      const raw = buffer.readBigUInt64BE(start);
      if (raw > 1n) throw new KmipDecodeError('Boolean must be 0 or 1', start);
      return [{ tag, type, value: raw === 1n }, end];
    }
    case ItemType.BigInteger: {
      if (length === 0 || length % 8 !== 0) throw new KmipDecodeError('Big Integer length must be a non-zero multiple of 8', lengthAt);
      const hex = buffer.toString('hex', start, start + length);
      let value = BigInt(`0x${hex}`);
      if ((buffer[start] ?? 0) >= 0x80) value -= 2n ** BigInt(length * 8);
      return [{ tag, type, value }, end];
    }
    case ItemType.TextString: {
      checkPadding(buffer, start + length, end);
      let value: string;
      try {
        value = utf8.decode(buffer.subarray(start, start + length));
      } catch {
        throw new KmipDecodeError('Text String is not valid UTF-8', start);
      }
      return [{ tag, type, value }, end];
    }
    case ItemType.ByteString:
      checkPadding(buffer, start + length, end);
      return [{ tag, type, value: Buffer.from(buffer.subarray(start, start + length)) }, end];
    default:
      throw new KmipDecodeError(`unknown item type 0x${type.toString(16)}`, offset + 3);
  }
}

/**
 * Encodes one TTLV item (with its children) into one new buffer, sized first and then written in
 * place: values are copied exactly once, into the returned buffer, and no intermediate copy is made
 * (a response that carries key material is zeroed by zeroing that buffer and the values given).
 */
export function encodeTtlv(item: TtlvItem): Buffer {
  const out = Buffer.alloc(encodedLength(item));
  const end = writeItem(item, out, 0);
  if (end !== out.length) throw new KmipEncodeError('encoded length mismatch');
  return out;
}

function checkTag(tag: number): void {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffff) throw new KmipEncodeError(`invalid tag ${tag}`);
}

/** Bytes of a Big Integer's two's complement, sign-extended to a multiple of 8 bytes. */
function bigIntLength(value: bigint): number {
  let bytes = 8;
  while (value < -(2n ** BigInt(bytes * 8 - 1)) || value >= 2n ** BigInt(bytes * 8 - 1)) bytes += 8;
  return bytes;
}

/** Length of the value (without header and padding). */
function valueLength(item: TtlvItem): number {
  switch (item.type) {
    case ItemType.Structure:
      return item.value.reduce((sum, child) => sum + encodedLength(child), 0);
    case ItemType.Integer:
    case ItemType.Enumeration:
    case ItemType.Interval:
      return 4;
    case ItemType.LongInteger:
    case ItemType.DateTime:
    case ItemType.Boolean:
      return 8;
    case ItemType.BigInteger:
      return bigIntLength(item.value);
    case ItemType.TextString:
      return Buffer.byteLength(item.value, 'utf8');
    case ItemType.ByteString:
      return item.value.length;
  }
}

/** Header, value and padding. */
function encodedLength(item: TtlvItem): number {
  return HEADER + padded(valueLength(item));
}

/** Writes the item at `at` of `out` (zero-filled, so padding needs no writes); answers the offset after it. */
function writeItem(item: TtlvItem, out: Buffer, at: number): number {
  checkTag(item.tag);
  const length = valueLength(item);
  if (length > 0xffffffff) throw new KmipEncodeError('item longer than 2^32 - 1 bytes');
  out.writeUIntBE(item.tag, at, 3);
  out.writeUInt8(item.type, at + 3);
  out.writeUInt32BE(length, at + 4);
  const start = at + HEADER;
  switch (item.type) {
    case ItemType.Structure: {
      let next = start;
      for (const child of item.value) next = writeItem(child, out, next);
      break;
    }
    case ItemType.Integer:
      if (!Number.isInteger(item.value) || item.value < INT32_MIN || item.value > INT32_MAX)
        throw new KmipEncodeError('Integer out of range');
      out.writeInt32BE(item.value, start);
      break;
    case ItemType.Enumeration:
    case ItemType.Interval:
      if (!Number.isInteger(item.value) || item.value < 0 || item.value > 0xffffffff)
        throw new KmipEncodeError('Enumeration/Interval out of range');
      out.writeUInt32BE(item.value, start);
      break;
    case ItemType.LongInteger:
    case ItemType.DateTime:
      if (item.value < INT64_MIN || item.value > INT64_MAX) throw new KmipEncodeError('Long Integer/Date-Time out of range');
      out.writeBigInt64BE(item.value, start);
      break;
    case ItemType.Boolean:
      out.writeUInt8(item.value ? 1 : 0, start + 7);
      break;
    case ItemType.BigInteger: {
      // Two's complement: a negative value is written as 2^(8 * length) + value, 64 bits at a time.
      let rest = item.value < 0n ? 2n ** BigInt(length * 8) + item.value : item.value;
      for (let word = start + length - 8; word >= start; word -= 8) {
        out.writeBigUInt64BE(rest % 2n ** 64n, word);
        rest /= 2n ** 64n;
      }
      break;
    }
    case ItemType.TextString:
      out.write(item.value, start, length, 'utf8');
      break;
    case ItemType.ByteString:
      item.value.copy(out, start);
      break;
  }
  return start + padded(length);
}
