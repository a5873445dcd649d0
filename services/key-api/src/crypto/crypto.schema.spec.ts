import { randomInt } from 'node:crypto';
import { openApi } from '../platform/zod.pipe';
import { CRYPTO_ROUTES } from './crypto.routes';
import { encryptBody, isStrictBase64, MAX_BODY_BYTES, MAX_PLAINTEXT_BYTES } from './crypto.schema';

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

describe('body sizes', () => {
  interface JsonSchema {
    type?: string;
    maxLength?: number;
    enum?: unknown[];
    properties?: Record<string, JsonSchema>;
    anyOf?: JsonSchema[];
  }
  /** The longest value a property's schema admits (strings at their maxLength; 'A' is base64). */
  const longest = (s: JsonSchema): unknown => {
    if (s.enum) return [...s.enum].sort((a, b) => JSON.stringify(b).length - JSON.stringify(a).length)[0];
    if (s.anyOf) return longest(s.anyOf[0]!);
    if (s.type === 'string') {
      expect(s.maxLength).toBeDefined(); // an unbounded string could not fit any body limit
      return 'A'.repeat(s.maxLength!);
    }
    return 4096;
  };

  it.each(CRYPTO_ROUTES.map((r) => [r.path, r] as const))(
    '%s: the longest body its schema admits fits in key-api body limit (so it is read and answered, never cut off)',
    (_path, route) => {
      const schema = openApi(route.body, 'input') as JsonSchema;
      const body = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, s]) => [name, longest(s)]));
      expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(route.bodyLimit ?? MAX_BODY_BYTES);
    },
  );

  it('admits a plaintext larger than MAX_PLAINTEXT_BYTES once decoded, so that it is answered 413 rather than 400', () => {
    const over = Buffer.alloc(MAX_PLAINTEXT_BYTES + 3).toString('base64');
    expect(encryptBody.safeParse({ plaintext: over }).success).toBe(true);
  });
});
