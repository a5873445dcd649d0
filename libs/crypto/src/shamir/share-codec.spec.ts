import { createHash, randomBytes } from 'node:crypto';
import { decodeShare, describeShare, encodeShare, SHARE_DATA_BYTES, type RootKeyShare } from './share-codec';
import { ShareError, type ShareErrorCode } from './share-error';

const data = (x = 7): Uint8Array => {
  const bytes = new Uint8Array(randomBytes(SHARE_DATA_BYTES));
  bytes[SHARE_DATA_BYTES - 1] = x;
  return bytes;
};
const share = (overrides: Partial<RootKeyShare> = {}): RootKeyShare => ({
  kcv: '0123456789abcdef',
  setId: 'a1b2c3d4',
  threshold: 3,
  total: 5,
  index: 2,
  data: data(),
  ...overrides,
});
/** A share text with a correct checksum over any body, to test the field checks behind it. */
const withChecksum = (body: string): string => `${body}-${createHash('sha256').update(body).digest('hex').slice(0, 8)}`;
const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

function refusal(text: string): ShareError {
  try {
    decodeShare(text);
  } catch (err: unknown) {
    if (err instanceof ShareError) return err;
    throw err;
  }
  throw new Error(`accepted: ${text}`);
}
const refusedWith = (text: string, code: ShareErrorCode, message: RegExp): void => {
  const err = refusal(text);
  expect([err.code, err.message]).toEqual([code, expect.stringMatching(message)]);
};

describe('share text format', () => {
  it('round-trips every field', () => {
    const original = share();
    const text = encodeShare(original);
    expect(text).toMatch(/^kwshare-1-0123456789abcdef-a1b2c3d4-3of5-2-[A-Za-z0-9_-]{44}-[0-9a-f]{8}$/);
    const decoded = decodeShare(text);
    expect(decoded).toEqual({ ...original, data: expect.any(Uint8Array) as unknown });
    expect(Buffer.from(decoded.data).equals(Buffer.from(original.data))).toBe(true);
    // A plain Uint8Array (what shamir-secret-sharing requires), not a Buffer sharing a pool.
    expect(decoded.data.constructor).toBe(Uint8Array);
  });

  it.each([
    ['leading and trailing white space', (t: string) => `  ${t}\n`],
    [
      'line breaks inside (wrapped by a mail client or a printer)',
      (t: string) => `${t.slice(0, 40)}\n${t.slice(40, 80)}\r\n${t.slice(80)}`,
    ],
    ['spaces inside', (t: string) => t.replace(/-/g, ' - ')],
  ])('ignores %s', (_, mangle) => {
    const original = share();
    expect(decodeShare(mangle(encodeShare(original))).index).toBe(2);
  });

  it('handles data that contains "-" and "_" (base64url)', () => {
    const bytes = new Uint8Array(SHARE_DATA_BYTES).fill(0xfb); // 0xfb... encodes as "-_v7..."
    bytes[SHARE_DATA_BYTES - 1] = 0xff;
    const text = encodeShare(share({ data: bytes }));
    expect(text).toMatch(/[-_]{2}/);
    expect(Buffer.from(decodeShare(text).data).equals(Buffer.from(bytes))).toBe(true);
  });

  describe('refuses, saying precisely why', () => {
    const text = encodeShare(share());

    it.each<[string, string, ShareErrorCode, RegExp]>([
      ['an empty string', '  \n', 'format', /empty/],
      ['a root key instead of a share', randomBytes(32).toString('base64'), 'format', /not a Keyward root key share.*kwshare-/],
      ['another prefix', text.replace('kwshare', 'kwshard'), 'format', /not a Keyward root key share/],
      ['a later format version', text.replace('kwshare-1-', 'kwshare-2-'), 'version', /format version 2; this Keyward reads version 1/],
      ['a mistyped version', text.replace('kwshare-1-', 'kwshare-l-'), 'format', /version .* missing or mistyped/],
      ['a share cut off at the end', text.slice(0, -5), 'format', /incomplete.*checksum.*cut off/],
      ['a share without its checksum', text.slice(0, -9), 'format', /incomplete/],
      ['a mistyped character', text.slice(0, 60) + (text[60] === 'A' ? 'B' : 'A') + text.slice(61), 'checksum', /checksum does not match/],
      ['a mistyped checksum', text.slice(0, -1) + (text.endsWith('0') ? '1' : '0'), 'checksum', /checksum does not match/],
    ])('%s', (_, input, code, message) => refusedWith(input, code, message));

    it('every single-character substitution, deletion, insertion and swap', () => {
      const alphabet = Array.from('abcdef0123456789AZaz_-');
      for (let at = 0; at < text.length; at++) {
        const variants = [
          text.slice(0, at) + text.slice(at + 1),
          text.slice(0, at) + 'x' + text.slice(at),
          ...alphabet.filter((c) => c !== text[at]).map((c) => text.slice(0, at) + c + text.slice(at + 1)),
        ];
        if (at + 1 < text.length && text[at] !== text[at + 1])
          variants.push(text.slice(0, at) + text[at + 1]! + text[at]! + text.slice(at + 2));
        for (const variant of variants) expect(refusal(variant).code).toMatch(/^(format|checksum|version)$/);
      }
    });

    it('never quotes the share in the message', () => {
      const secretPart = text.split('-').slice(6, -1).join('-');
      // A character that differs from the one it replaces (the share data is random: it may already be a Q).
      const typo = text[50] === 'Q' ? 'R' : 'Q';
      for (const input of [text.slice(0, -3), text.slice(0, 50) + typo + text.slice(51), text.replace('kwshare-1', 'kwshare-9')]) {
        expect(refusal(input).message).not.toContain(secretPart.slice(0, 12));
      }
    });

    it.each<[string, string, RegExp]>([
      ['a threshold of 1', `kwshare-1-0123456789abcdef-a1b2c3d4-1of5-2-${b64url(data())}`, /threshold must be at least 2/],
      [
        'a threshold above the number of shares',
        `kwshare-1-0123456789abcdef-a1b2c3d4-4of3-2-${b64url(data())}`,
        /threshold \(4\) is larger/,
      ],
      ['more than 255 shares', `kwshare-1-0123456789abcdef-a1b2c3d4-3of300-2-${b64url(data())}`, /at most 255/],
      ['a share number above the number of shares', `kwshare-1-0123456789abcdef-a1b2c3d4-3of5-6-${b64url(data())}`, /share number \(6\)/],
      ['a zero x coordinate', `kwshare-1-0123456789abcdef-a1b2c3d4-3of5-2-${b64url(data(0))}`, /x coordinate is zero/],
      ['short data', `kwshare-1-0123456789abcdef-a1b2c3d4-3of5-2-${b64url(data()).slice(4)}`, /fields are malformed/],
      ['an uppercase check value', `kwshare-1-0123456789ABCDEF-a1b2c3d4-3of5-2-${b64url(data())}`, /fields are malformed/],
      ['a leading zero', `kwshare-1-0123456789abcdef-a1b2c3d4-03of5-2-${b64url(data())}`, /fields are malformed/],
    ])('a well-checksummed share with %s', (_, body, message) => refusedWith(withChecksum(body), 'format', message));
  });

  it('refuses to encode an invalid share', () => {
    expect(() => encodeShare(share({ threshold: 6 }))).toThrow(/threshold \(6\) is larger/);
    expect(() => encodeShare(share({ index: 0 }))).toThrow(/share number/);
    expect(() => encodeShare(share({ kcv: 'nothex' }))).toThrow(/check value/);
    expect(() => encodeShare(share({ setId: 'ABCDEF12' }))).toThrow(/set id/);
    expect(() => encodeShare(share({ data: new Uint8Array(10) }))).toThrow(/33 bytes/);
  });

  it('describes a share by its public fields only', () => {
    expect(describeShare(share())).toBe('root key 0123456789abcdef, set a1b2c3d4, 3 of 5');
  });
});
