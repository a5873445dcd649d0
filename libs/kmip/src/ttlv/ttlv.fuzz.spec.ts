import { decodeTtlv, encodeTtlv } from './ttlv.codec';
import { ttlv } from './ttlv.build';
import { ItemType, KmipDecodeError, type TtlvItem, type TtlvLimits } from './ttlv.types';

/** Deterministic PRNG (mulberry32), so that any failure is reproducible from the printed seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LIMITS: TtlvLimits = { maxMessageBytes: 64 * 1024, maxDepth: 16 };
const CASES = 120_000;

function randomItem(next: () => number, depth: number): TtlvItem {
  const int = (n: number): number => Math.floor(next() * n);
  const tag = 0x420000 + int(0x140);
  const kind = depth > 0 && next() < 0.3 ? ItemType.Structure : 2 + int(9);
  switch (kind) {
    case ItemType.Structure:
      return ttlv.struct(
        tag,
        Array.from({ length: int(5) }, () => randomItem(next, depth - 1)),
      );
    case ItemType.Integer:
      return ttlv.int(tag, int(0x100000000) - 0x80000000);
    case ItemType.LongInteger:
      return ttlv.long(tag, BigInt(int(0x100000000)) * BigInt(int(0x7fffffff)) - BigInt(int(0x7fffffff)));
    case ItemType.BigInteger:
      return ttlv.big(tag, BigInt(int(0x100000000)) ** BigInt(1 + int(4)) * (next() < 0.5 ? -1n : 1n));
    case ItemType.Enumeration:
      return ttlv.enum(tag, int(0x100000000));
    case ItemType.Boolean:
      return ttlv.bool(tag, next() < 0.5);
    case ItemType.TextString:
      return ttlv.text(tag, 'kmipé✓'.repeat(int(4)).slice(0, int(20)));
    case ItemType.ByteString:
      return ttlv.bytes(tag, Buffer.from(Array.from({ length: int(40) }, () => int(256))));
    case ItemType.DateTime:
      return { tag, type: ItemType.DateTime, value: BigInt(int(0x7fffffff)) };
    default:
      return ttlv.interval(tag, int(0x100000000));
  }
}

function mutate(valid: Buffer, next: () => number): Buffer {
  const int = (n: number): number => Math.floor(next() * n);
  const b = Buffer.from(valid);
  switch (int(6)) {
    case 0: // truncated
      return b.subarray(0, int(b.length));
    case 1: // random byte flips
      for (let i = 0, n = 1 + int(4); i < n; i++) b[int(b.length)] = int(256);
      return b;
    case 2: {
      // corrupt a length field at some 8-byte boundary with an extreme value
      const at = int(Math.max(1, b.length >> 3)) * 8 + 4;
      if (at + 4 <= b.length) b.writeUInt32BE([0, 1, 0x7fffffff, 0xffffffff, 0xfffffff8, int(0x100000000)][int(6)] ?? 0, at);
      return b;
    }
    case 3: // oversized: appended garbage
      return Buffer.concat([b, Buffer.alloc(1 + int(64), int(256))]);
    case 4: {
      // a type byte changed
      const at = int(Math.max(1, b.length >> 3)) * 8 + 3;
      if (at < b.length) b[at] = int(16);
      return b;
    }
    default: // wholly random bytes
      return Buffer.from(Array.from({ length: int(64) }, () => int(256)));
  }
}

function deeplyNested(depth: number): Buffer {
  // Built by hand, so that the generator itself does not recurse.
  const parts: Buffer[] = [];
  for (let i = 0; i < depth; i++) {
    const h = Buffer.alloc(8);
    h.writeUIntBE(0x420078, 0, 3);
    h.writeUInt8(ItemType.Structure, 3);
    h.writeUInt32BE((depth - i - 1) * 8, 4);
    parts.push(h);
  }
  return Buffer.concat(parts);
}

describe('TTLV decoder fuzzing', () => {
  it(`answers ${CASES} generated inputs with a value or a KmipDecodeError, and nothing else`, () => {
    const seed = 0x6b6d6970;
    const next = rng(seed);
    const counts = { decoded: 0, refused: 0 };
    const started = Date.now();
    const oversized = Buffer.alloc(LIMITS.maxMessageBytes + 32, 0x42);
    // Stack traces (source-mapped under jest) would cost more than the decoding itself.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      for (let i = 0; i < CASES; i++) {
        let input: Buffer;
        const mode = i % 10;
        if (mode === 0) {
          input = deeplyNested(1 + Math.floor(next() * 40));
        } else if (mode === 1) {
          input = oversized.subarray(0, LIMITS.maxMessageBytes + 1 + Math.floor(next() * 16));
        } else {
          const valid = encodeTtlv(ttlv.struct(0x420078, [randomItem(next, 1 + Math.floor(next() * 6))]));
          input = mode === 2 ? valid : mutate(valid, next);
        }
        try {
          decodeTtlv(input, LIMITS);
          counts.decoded++;
        } catch (e) {
          if (!(e instanceof KmipDecodeError)) {
            throw new Error(`case ${i} (seed ${seed}) threw ${String(e)} for ${input.toString('hex').slice(0, 400)}`);
          }
          counts.refused++;
        }
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    expect(counts.decoded + counts.refused).toBe(CASES);
    expect(counts.decoded).toBeGreaterThan(CASES / 20);
    expect(counts.refused).toBeGreaterThan(CASES / 5);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('round-trips every valid generated message', () => {
    const next = rng(42);
    for (let i = 0; i < 2_000; i++) {
      const item = ttlv.struct(0x420078, [randomItem(next, 5)]);
      expect(decodeTtlv(encodeTtlv(item), { maxMessageBytes: 1 << 20, maxDepth: 16 })).toEqual(item);
    }
  });
});
