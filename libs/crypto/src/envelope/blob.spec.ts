import { MalformedBlob } from '../errors';
import { BLOB_ALGORITHMS, BLOB_FORMAT, type BlobAlgorithm, type BlobHeader, encodeHeader, parseBlob } from './blob';

/** For failure messages: what was thrown. */
const errorName = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : `non-Error ${typeof err}`);

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (err: unknown) {
    return err;
  }
  return undefined;
}

/** Builds raw header bytes field by field, without encodeHeader's checks. */
function rawHeader({
  magic = 'kw',
  format = BLOB_FORMAT,
  algorithm = 1,
  idLength,
  keyId = Buffer.from('k1', 'latin1'),
  version = 1,
}: {
  magic?: string;
  format?: number;
  algorithm?: number;
  idLength?: number;
  keyId?: Buffer;
  version?: number;
}): Buffer {
  const versionBytes = Buffer.alloc(4);
  versionBytes.writeUInt32BE(version);
  return Buffer.concat([Buffer.from(magic, 'latin1'), Buffer.from([format, algorithm, idLength ?? keyId.length]), keyId, versionBytes]);
}

/** Small deterministic PRNG (mulberry32), so that a fuzz failure can be reproduced. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALGORITHMS = Object.keys(BLOB_ALGORITHMS) as BlobAlgorithm[];

describe('blob header', () => {
  describe('encodeHeader', () => {
    it('lays out "kw" | format | algorithm | key-id length | key id | version (uint32 BE)', () => {
      expect(encodeHeader({ algorithm: 'AES-256-GCM', keyId: 'k1', version: 1 })).toEqual(
        Buffer.from([0x6b, 0x77, 1, 1, 2, 0x6b, 0x31, 0, 0, 0, 1]),
      );
      expect(encodeHeader({ algorithm: 'HMAC-SHA256', keyId: 'K', version: 0x01020304 })).toEqual(
        Buffer.from([0x6b, 0x77, 1, 2, 1, 0x4b, 1, 2, 3, 4]),
      );
    });

    it.each(['', 'a'.repeat(65), 'a-b', 'a b', 'a.b', 'a/b', 'é', 'k\n', '\nk', 'k\u0000', 'ключ', 'a+b', 'a=b'])(
      'rejects key id %j with RangeError',
      (keyId) => {
        expect(() => encodeHeader({ algorithm: 'AES-256-GCM', keyId, version: 1 })).toThrow(RangeError);
      },
    );

    it.each([0, -1, 1.5, 0x1_0000_0000, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER])(
      'rejects version %p with RangeError',
      (version) => {
        expect(() => encodeHeader({ algorithm: 'AES-256-GCM', keyId: 'k', version })).toThrow(RangeError);
      },
    );

    it('accepts the boundaries: 1- and 64-character key ids, versions 1 and 2^32 - 1', () => {
      expect(() => encodeHeader({ algorithm: 'AES-256-GCM', keyId: 'a', version: 1 })).not.toThrow();
      expect(() => encodeHeader({ algorithm: 'AES-256-GCM', keyId: 'Z'.repeat(64), version: 0xffffffff })).not.toThrow();
    });
  });

  describe('encodeHeader / parseBlob round trip', () => {
    const cases: BlobHeader[] = [];
    for (const algorithm of ALGORITHMS) {
      for (const keyId of ['k', 'orders_2024', 'A'.repeat(64), '0123456789_abcXYZ']) {
        for (const version of [1, 2, 255, 256, 0xffffffff]) cases.push({ algorithm, keyId, version });
      }
    }

    it.each(cases)('round-trips %j with and without a body', (header) => {
      const encoded = encodeHeader(header);
      const body = Buffer.from('body bytes \u0000\u00ff', 'latin1');
      const parsed = parseBlob(Buffer.concat([encoded, body]));
      expect(parsed).toEqual({ ...header, header: encoded, body });
      expect(parseBlob(encoded)).toEqual({ ...header, header: encoded, body: Buffer.alloc(0) });
    });
  });

  describe('parseBlob refuses anything that is not a blob with MalformedBlob', () => {
    const good = rawHeader({});

    it('accepts the hand-built reference header (sanity check of the helper)', () => {
      expect(parseBlob(good)).toMatchObject({ algorithm: 'AES-256-GCM', keyId: 'k1', version: 1 });
    });

    it.each<[string, Buffer]>([
      ['empty', Buffer.alloc(0)],
      ['one byte', Buffer.from('k')],
      ['magic only', Buffer.from('kw')],
      ['magic and format only', Buffer.from([0x6b, 0x77, 1])],
      ['magic, format and algorithm only', Buffer.from([0x6b, 0x77, 1, 1])],
      ['wrong magic "KW"', rawHeader({ magic: 'KW' })],
      ['wrong magic "kx"', rawHeader({ magic: 'kx' })],
      ['wrong magic "wk"', rawHeader({ magic: 'wk' })],
      ['base64 text instead of bytes', Buffer.from(good.toString('base64'))],
      ['format 0', rawHeader({ format: 0 })],
      ['format 2', rawHeader({ format: 2 })],
      ['format 255', rawHeader({ format: 255 })],
      ['algorithm 0', rawHeader({ algorithm: 0 })],
      ['algorithm 5', rawHeader({ algorithm: 5 })],
      ['algorithm 255', rawHeader({ algorithm: 255 })],
      ['key-id length 0', rawHeader({ idLength: 0, keyId: Buffer.alloc(0) })],
      ['key-id length 0 followed by bytes', rawHeader({ idLength: 0 })],
      ['key-id length 65', rawHeader({ keyId: Buffer.alloc(65, 'a') })],
      ['key-id length 255', rawHeader({ keyId: Buffer.alloc(255, 'a') })],
      ['key-id length larger than the blob', rawHeader({ idLength: 40 })],
      ['version 0', rawHeader({ version: 0 })],
      ['key id with "-"', rawHeader({ keyId: Buffer.from('a-b') })],
      ['key id with " "', rawHeader({ keyId: Buffer.from('a b') })],
      ['key id with "."', rawHeader({ keyId: Buffer.from('a.b') })],
      ['key id with "/"', rawHeader({ keyId: Buffer.from('../x') })],
      ['key id with NUL', rawHeader({ keyId: Buffer.from([0x61, 0x00]) })],
      ['key id with DEL', rawHeader({ keyId: Buffer.from([0x61, 0x7f]) })],
      ['key id with a newline', rawHeader({ keyId: Buffer.from('a\n') })],
    ])('%s', (_name, blob) => {
      expect(errorOf(() => parseBlob(blob))).toBeInstanceOf(MalformedBlob);
    });

    it('every truncation of a valid header', () => {
      for (const algorithm of ALGORITHMS) {
        const header = encodeHeader({ algorithm, keyId: 'some_key', version: 7 });
        for (let length = 0; length < header.length; length++) {
          expect(errorOf(() => parseBlob(header.subarray(0, length)))).toBeInstanceOf(MalformedBlob);
        }
      }
    });

    it('key id bytes with the high bit set (0x80 | "k")', () => {
      const blob = rawHeader({ keyId: Buffer.from([0x80 | 0x6b, 0x31]) });
      expect(errorOf(() => parseBlob(blob))).toBeInstanceOf(MalformedBlob);
    });

    it('fuzz: random bytes behind a valid prefix only ever parse or throw MalformedBlob', () => {
      const random = prng(0x6b77);
      const unexpected: string[] = [];
      for (let round = 0; round < 5000; round++) {
        const length = Math.floor(random() * 80);
        const bytes = Buffer.alloc(length);
        for (let i = 0; i < length; i++) bytes.writeUInt8(Math.floor(random() * 256), i);
        // Most rounds keep the magic and format so that the fuzzing gets past the first checks.
        const prefix = round % 4 === 0 ? Buffer.alloc(0) : Buffer.from([0x6b, 0x77, 1, 1 + (round % 2), Math.floor(random() * 70)]);
        const blob = Buffer.concat([prefix, bytes]);
        const error = errorOf(() => parseBlob(blob));
        if (error !== undefined && !(error instanceof MalformedBlob)) unexpected.push(`${blob.toString('hex')}: ${errorName(error)}`);
      }
      expect(unexpected).toEqual([]);
    });
  });

  it('parseBlob returns views of the exact header bytes and body', () => {
    const header = encodeHeader({ algorithm: 'HMAC-SHA256', keyId: 'mac_key', version: 9 });
    const body = Buffer.alloc(32, 7);
    const parsed = parseBlob(Buffer.concat([header, body]));
    expect(parsed.header).toEqual(header);
    expect(parsed.body).toEqual(body);
    expect(parsed.header.length + parsed.body.length).toBe(header.length + body.length);
  });
});
