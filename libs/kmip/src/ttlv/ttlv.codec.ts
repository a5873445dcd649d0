import { DEFAULT_TTLV_LIMITS, ItemType, KmipDecodeError, KmipEncodeError, type TtlvItem, type TtlvLimits } from './ttlv.types';

const HEADER = 8;
/** Recursion is bounded by the depth limit; this ceiling keeps any configuration far from the stack limit. */
const MAX_DEPTH_CEILING = 256;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const padded = (length: number): number => (length + 7) & ~7;

/**
 * Total byte length of the TTLV item whose 8-byte header starts `header`, padding included
 * (what a stream reader must wait for), or a KmipDecodeError when it exceeds the limit.
 */
export function ttlvFrameLength(header: Buffer, limits: TtlvLimits = DEFAULT_TTLV_LIMITS): number {
  if (header.length < HEADER) throw new KmipDecodeError('truncated header', header.length);
  const type = header.readUInt8(3);
  if (type !== ItemType.Structure) throw new KmipDecodeError('a message must be a structure', 3);
  const length = header.readUInt32BE(4);
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
  const end = start + padded(length);
  if (end > limit || start + length > limit) throw new KmipDecodeError(`item length ${length} overruns its container`, offset + 4);
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
      if ((buffer[start] ?? 0) & 0x80) value -= 1n << BigInt(length * 8);
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

/** Encodes one TTLV item (with its children) into a new buffer. */
export function encodeTtlv(item: TtlvItem): Buffer {
  const parts: Buffer[] = [];
  encodeInto(item, parts);
  return Buffer.concat(parts);
}

function header(tag: number, type: number, length: number): Buffer {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffff) throw new KmipEncodeError(`invalid tag ${tag}`);
  const h = Buffer.alloc(HEADER);
  h.writeUIntBE(tag, 0, 3);
  h.writeUInt8(type, 3);
  h.writeUInt32BE(length, 4);
  return h;
}

function withPadding(parts: Buffer[], value: Buffer): void {
  parts.push(value);
  const pad = padded(value.length) - value.length;
  if (pad > 0) parts.push(Buffer.alloc(pad));
}

function bigIntBytes(value: bigint): Buffer {
  // Two's complement, sign-extended to a multiple of 8 bytes.
  let bytes = 8;
  while (value < -(1n << BigInt(bytes * 8 - 1)) || value >= 1n << BigInt(bytes * 8 - 1)) bytes += 8;
  const unsigned = value < 0n ? (1n << BigInt(bytes * 8)) + value : value;
  return Buffer.from(unsigned.toString(16).padStart(bytes * 2, '0'), 'hex');
}

function encodeInto(item: TtlvItem, parts: Buffer[]): void {
  switch (item.type) {
    case ItemType.Structure: {
      const children: Buffer[] = [];
      for (const child of item.value) encodeInto(child, children);
      const body = Buffer.concat(children);
      parts.push(header(item.tag, item.type, body.length), body);
      return;
    }
    case ItemType.Integer: {
      if (!Number.isInteger(item.value) || item.value < INT32_MIN || item.value > INT32_MAX)
        throw new KmipEncodeError('Integer out of range');
      const b = Buffer.alloc(8);
      b.writeInt32BE(item.value, 0);
      parts.push(header(item.tag, item.type, 4), b);
      return;
    }
    case ItemType.Enumeration:
    case ItemType.Interval: {
      if (!Number.isInteger(item.value) || item.value < 0 || item.value > 0xffffffff)
        throw new KmipEncodeError('Enumeration/Interval out of range');
      const b = Buffer.alloc(8);
      b.writeUInt32BE(item.value, 0);
      parts.push(header(item.tag, item.type, 4), b);
      return;
    }
    case ItemType.LongInteger:
    case ItemType.DateTime: {
      if (item.value < INT64_MIN || item.value > INT64_MAX) throw new KmipEncodeError('Long Integer/Date-Time out of range');
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(item.value, 0);
      parts.push(header(item.tag, item.type, 8), b);
      return;
    }
    case ItemType.Boolean: {
      const b = Buffer.alloc(8);
      b.writeUInt8(item.value ? 1 : 0, 7);
      parts.push(header(item.tag, item.type, 8), b);
      return;
    }
    case ItemType.BigInteger: {
      const b = bigIntBytes(item.value);
      parts.push(header(item.tag, item.type, b.length), b);
      return;
    }
    case ItemType.TextString: {
      const b = Buffer.from(item.value, 'utf8');
      parts.push(header(item.tag, item.type, b.length));
      withPadding(parts, b);
      return;
    }
    case ItemType.ByteString:
      parts.push(header(item.tag, item.type, item.value.length));
      withPadding(parts, item.value);
      return;
  }
}
