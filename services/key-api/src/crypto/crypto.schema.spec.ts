import { randomInt } from 'node:crypto';
import { encryptBody, isStrictBase64 } from './crypto.schema';

/** The definition: groups of four, the last one possibly padded. */
const REFERENCE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ALPHABET = ['A', 'a', '0', '+', '/', '=', '-', '_', ' ', '\n', '.', '*', '\u0000', 'é', '\u0141', '\u{1F600}'];

describe('strict base64', () => {
  it('accepts exactly the strings of the reference grammar (50,000 random short strings)', () => {
    for (let i = 0; i < 50_000; i++) {
      const s = Array.from({ length: randomInt(0, 13) }, () => ALPHABET[randomInt(0, ALPHABET.length)]).join('');
      expect([s, isStrictBase64(s)]).toEqual([s, REFERENCE.test(s)]);
    }
  });

  it.each(['', 'AAAA', 'AA==', 'AAA=', Buffer.from('hello, world').toString('base64')])('accepts %j', (s) => {
    expect(isStrictBase64(s)).toBe(true);
  });

  it.each([
    'A',
    'AA=',
    'A===',
    '====',
    'AA=A',
    'AAAA=',
    'aGk_',
    'aGk-',
    'AA AA',
    'AA==\n',
    'AAA\u0141',
    'AAAé',
    'AA\u{1F600}',
    '\u{1F600}\u{1F600}',
  ])('refuses %j', (s) => {
    expect(isStrictBase64(s)).toBe(false);
  });

  it('the encrypt body says which field is not base64', () => {
    const parsed = encryptBody.safeParse({ plaintext: 'not base64!' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe('plaintext must be standard base64 (with padding)');
  });
});
