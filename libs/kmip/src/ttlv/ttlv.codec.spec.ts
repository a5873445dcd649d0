import { decodeTtlv, encodeTtlv, ttlvFrameLength } from './ttlv.codec';
import { ttlv } from './ttlv.build';
import { ItemType, KmipDecodeError, type TtlvItem } from './ttlv.types';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Encodings from the KMIP 1.4 specification, §9.1.2 (examples).
const examples: [string, TtlvItem, string][] = [
  ['Integer 8', ttlv.int(0x420020, 8), '42 00 20 02 00 00 00 04 00 00 00 08 00 00 00 00'],
  ['Long Integer', ttlv.long(0x420020, 123456789000000000n), '42 00 20 03 00 00 00 08 01 B6 9B 4B A5 74 92 00'],
  [
    'Big Integer',
    ttlv.big(0x420020, 1234567890000000000000000000n),
    '42 00 20 04 00 00 00 10 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00',
  ],
  ['Enumeration', ttlv.enum(0x420020, 255), '42 00 20 05 00 00 00 04 00 00 00 FF 00 00 00 00'],
  ['Boolean true', ttlv.bool(0x420020, true), '42 00 20 06 00 00 00 08 00 00 00 00 00 00 00 01'],
  ['Text String', ttlv.text(0x420020, 'Hello World'), '42 00 20 07 00 00 00 0B 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00'],
  ['Byte String', ttlv.bytes(0x420020, Buffer.from([1, 2, 3])), '42 00 20 08 00 00 00 03 01 02 03 00 00 00 00 00'],
  ['Date-Time', { tag: 0x420020, type: ItemType.DateTime, value: 0x47da67f8n }, '42 00 20 09 00 00 00 08 00 00 00 00 47 DA 67 F8'],
  ['Interval', ttlv.interval(0x420020, 864000), '42 00 20 0A 00 00 00 04 00 0D 2F 00 00 00 00 00'],
  [
    'Structure',
    ttlv.struct(0x420020, [ttlv.enum(0x420004, 254), ttlv.int(0x420005, 255)]),
    '42 00 20 01 00 00 00 20 42 00 04 05 00 00 00 04 00 00 00 FE 00 00 00 00 42 00 05 02 00 00 00 04 00 00 00 FF 00 00 00 00',
  ],
];

describe('TTLV codec', () => {
  it.each(examples)('encodes and decodes %s exactly as the specification shows', (_name, item, wire) => {
    expect(encodeTtlv(item).toString('hex')).toBe(hex(wire).toString('hex'));
    expect(decodeTtlv(hex(wire))).toEqual(item);
  });

  it('round-trips negative numbers, empty strings and nested structures', () => {
    const item = ttlv.struct(0x420078, [
      ttlv.int(0x420001, -1),
      ttlv.long(0x420002, -(1n << 63n)),
      ttlv.big(0x420003, -129n),
      ttlv.big(0x420003, (1n << 64n) + 5n),
      ttlv.text(0x420004, ''),
      ttlv.text(0x420004, 'héllo ✓'),
      ttlv.bytes(0x420005, Buffer.alloc(0)),
      ttlv.bytes(0x420005, Buffer.alloc(9, 7)),
      ttlv.bool(0x420006, false),
      ttlv.struct(0x420007, [ttlv.struct(0x420008, [])]),
      ttlv.date(0x420009, new Date('2026-01-02T03:04:05Z')),
    ]);
    expect(decodeTtlv(encodeTtlv(item))).toEqual(item);
  });

  const refused: [string, string][] = [
    ['a truncated header', '42 00 20 02 00 00'],
    ['a value shorter than its length', '42 00 20 02 00 00 00 04 00 00 00 08'],
    ['an Integer of length 8', '42 00 20 02 00 00 00 08 00 00 00 08 00 00 00 00'],
    ['a Boolean of 2', '42 00 20 06 00 00 00 08 00 00 00 00 00 00 00 02'],
    ['non-zero padding', '42 00 20 02 00 00 00 04 00 00 00 08 00 00 00 01'],
    ['an unknown type', '42 00 20 0C 00 00 00 04 00 00 00 08 00 00 00 00'],
    ['a Big Integer of length 3', '42 00 20 04 00 00 00 03 01 02 03 00 00 00 00 00'],
    ['invalid UTF-8', '42 00 20 07 00 00 00 02 C3 28 00 00 00 00 00 00'],
    ['trailing bytes', '42 00 20 02 00 00 00 04 00 00 00 08 00 00 00 00 00'],
    ['a child overrunning its structure', '42 00 20 01 00 00 00 08 42 00 04 05 00 00 00 04 00 00 00 FE 00 00 00 00'],
    ['a structure whose length is not a multiple of 8', '42 00 20 01 00 00 00 04 00 00 00 00'],
  ];
  it.each(refused)('refuses %s with a KmipDecodeError', (_name, wire) => {
    expect(() => decodeTtlv(hex(wire))).toThrow(KmipDecodeError);
  });

  it('enforces the nesting depth and message size limits', () => {
    let item: TtlvItem = ttlv.int(0x420001, 1);
    for (let i = 0; i < 10; i++) item = ttlv.struct(0x420002, [item]);
    const wire = encodeTtlv(item);
    expect(decodeTtlv(wire, { maxDepth: 10, maxMessageBytes: 4096 })).toEqual(item);
    expect(() => decodeTtlv(wire, { maxDepth: 9, maxMessageBytes: 4096 })).toThrow(/nested deeper than 9/);
    expect(() => decodeTtlv(wire, { maxDepth: 10, maxMessageBytes: wire.length - 1 })).toThrow(/exceeds/);
  });

  it('reads the frame length from a message header, within the size limit', () => {
    const wire = encodeTtlv(ttlv.struct(0x420078, [ttlv.text(0x420001, 'abc')]));
    expect(ttlvFrameLength(wire.subarray(0, 8))).toBe(wire.length);
    expect(() => ttlvFrameLength(wire.subarray(0, 8), { maxDepth: 4, maxMessageBytes: 8 })).toThrow(KmipDecodeError);
    expect(() => ttlvFrameLength(hex('42 00 20 02 00 00 00 04'))).toThrow(/must be a structure/);
  });

  describe('hostile lengths (finding 2: eight bytes once hung the kmip service)', () => {
    const limits = { maxMessageBytes: 1024 * 1024, maxDepth: 16 };
    // 0x80000000 padded with 32-bit bitwise arithmetic was -2^31: a negative frame that passed the size check.
    const lengths = [0x80000000, 0x7fffffff, 0xffffffff, 0xfffffff9, 0xfffffff8, 0x7ffffff9, limits.maxMessageBytes - 7];
    it.each(lengths.map((l) => [l.toString(16), l]))(
      'a message header with length 0x%s is refused, never a negative or short frame',
      (_hex, length) => {
        const header = Buffer.from('4200780100000000', 'hex');
        header.writeUInt32BE(length, 4);
        expect(() => ttlvFrameLength(header, limits)).toThrow(KmipDecodeError);
        expect(() => ttlvFrameLength(header, limits)).toThrow(/exceeds/);
      },
    );

    it('the eight bytes 42007801 80000000 are refused as too large (not a frame of 8 or fewer bytes)', () => {
      expect(() => ttlvFrameLength(hex('42 00 78 01 80 00 00 00'))).toThrow(/message of 2147483656 bytes exceeds 1048576/);
    });

    it('an empty message (length 0) is refused: a frame always has content', () => {
      expect(() => ttlvFrameLength(hex('42 00 78 01 00 00 00 00'))).toThrow(/empty message/);
    });

    it('every accepted frame length is a multiple of 8 between 16 and the limit', () => {
      const header = Buffer.from('4200780100000000', 'hex');
      for (const length of [1, 7, 8, 9, 4096, limits.maxMessageBytes - 8]) {
        header.writeUInt32BE(length, 4);
        const total = ttlvFrameLength(header, limits);
        expect(total % 8).toBe(0);
        expect(total).toBeGreaterThanOrEqual(16);
        expect(total).toBeLessThanOrEqual(limits.maxMessageBytes);
        expect(total - 8).toBeGreaterThanOrEqual(length);
      }
    });

    it.each(lengths.map((l) => [l.toString(16), l]))('an item of length 0x%s inside a message overruns its container', (_hex, length) => {
      for (const type of ['01', '07', '08', '04']) {
        const wire = hex(`42 00 78 01 00 00 00 10  42 00 20 ${type} 00 00 00 00  00 00 00 00 00 00 00 00`);
        wire.writeUInt32BE(length, 12);
        expect(() => decodeTtlv(wire, limits)).toThrow(/overruns its container/);
      }
    });
  });

  it('encodes into one buffer: values are copied once, into the result, with no intermediate copy', () => {
    const material = Buffer.alloc(32, 0xab);
    const message = ttlv.struct(0x42007b, [
      ttlv.struct(0x42007c, [ttlv.struct(0x420040, [ttlv.struct(0x420045, [ttlv.bytes(0x420043, material)])])]),
    ]);
    const spies = [
      jest.spyOn(Buffer, 'alloc'),
      jest.spyOn(Buffer, 'allocUnsafe'),
      jest.spyOn(Buffer, 'allocUnsafeSlow'),
      jest.spyOn(Buffer, 'concat'),
      jest.spyOn(Buffer, 'from'),
    ];
    let wire: Buffer;
    try {
      wire = encodeTtlv(message);
      expect(spies.map((s) => s.mock.calls.length)).toEqual([1, 0, 0, 0, 0]);
    } finally {
      for (const s of spies) s.mockRestore();
    }
    expect(wire.indexOf(material)).toBeGreaterThan(0);
    expect(decodeTtlv(wire)).toEqual(message);
  });
});
