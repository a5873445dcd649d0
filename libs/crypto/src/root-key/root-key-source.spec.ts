import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRootKey, parseRootKey, type RootKeyLoad } from './root-key-source';

const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1));
const KEY_BASE64 = KEY.toString('base64');

/** The key of a load, failing the test with the reason when there is none. */
function keyOf(load: RootKeyLoad): Buffer {
  if (load.key === null) throw new Error(`expected a key, got: ${load.reason}`);
  return load.key;
}

function reasonOf(load: RootKeyLoad): string {
  if (load.key !== null) throw new Error('expected no key');
  return load.reason;
}

describe('parseRootKey', () => {
  it('accepts 32 raw bytes and returns a copy', () => {
    const input = Buffer.from(KEY);
    const key = parseRootKey(input);
    expect(key).toEqual(KEY);
    input.fill(0);
    expect(key).toEqual(KEY);
  });

  it('accepts 32 raw bytes that happen to include newlines and spaces', () => {
    const raw = Buffer.alloc(32, 0x0a);
    raw.write('  ', 0);
    expect(parseRootKey(raw)).toEqual(raw);
  });

  it.each<[string, string | Buffer]>([
    ['a 44-character base64 string', KEY_BASE64],
    ['with a trailing newline', `${KEY_BASE64}\n`],
    ['with CRLF', `${KEY_BASE64}\r\n`],
    ['with surrounding whitespace', `  ${KEY_BASE64}\t\n`],
    ['as file bytes with a trailing newline', Buffer.from(`${KEY_BASE64}\n`)],
    ['as file bytes without a newline', Buffer.from(KEY_BASE64)],
  ])('accepts %s', (_name, input) => {
    expect(parseRootKey(input)).toEqual(KEY);
  });

  it('accepts base64 using "+" and "/"', () => {
    const key = Buffer.alloc(32, 0xfb);
    expect(key.toString('base64')).toMatch(/[+/]/);
    expect(parseRootKey(key.toString('base64'))).toEqual(key);
  });

  it.each<[string, string | Buffer]>([
    ['an empty string', ''],
    ['whitespace', ' \n'],
    ['an empty buffer', Buffer.alloc(0)],
    ['31 raw bytes', randomBytes(31)],
    ['33 raw bytes', randomBytes(33)],
    ['64 raw bytes', randomBytes(64)],
    ['base64 of 31 bytes', randomBytes(31).toString('base64')],
    ['base64 of 33 bytes', randomBytes(33).toString('base64')],
    ['base64 of 64 bytes', randomBytes(64).toString('base64')],
    ['base64 without padding', KEY_BASE64.slice(0, 43)],
    ['44 characters without padding', `${KEY_BASE64.slice(0, 43)}A`],
    ['base64 with extra padding', `${KEY_BASE64}=`],
    ['base64url', Buffer.alloc(32, 0xfb).toString('base64url') + '='],
    ['base64 with a space inside', `${KEY_BASE64.slice(0, 20)} ${KEY_BASE64.slice(20)}`],
    ['base64 with a newline inside', `${KEY_BASE64.slice(0, 20)}\n${KEY_BASE64.slice(21)}`],
    ['hex', KEY.toString('hex')],
    ['garbage of 44 characters', `${'!'.repeat(43)}=`],
    ['two keys', `${KEY_BASE64}\n${KEY_BASE64}\n`],
  ])('rejects %s', (_name, input) => {
    expect(parseRootKey(input)).toBeNull();
  });
});

describe('loadRootKey', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyward-root-key-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('kind none: no key, with a reason', () => {
    const load = loadRootKey({ kind: 'none' });
    expect(load.key).toBeNull();
    expect(reasonOf(load)).toMatch(/ROOT_KEY/);
  });

  describe('kind env', () => {
    it('loads a base64 key, with or without a trailing newline', () => {
      expect(loadRootKey({ kind: 'env', base64: KEY_BASE64 })).toEqual({ key: KEY, generated: false });
      expect(loadRootKey({ kind: 'env', base64: `${KEY_BASE64}\n` })).toEqual({ key: KEY, generated: false });
    });

    it.each([
      '',
      'not a key',
      KEY_BASE64.slice(0, 43),
      `${KEY_BASE64}=`,
      randomBytes(31).toString('base64'),
      randomBytes(48).toString('base64'),
      KEY.toString('hex'),
      'c2VjcmV0LXBhc3N3b3JkLXRoYXQtaXMtd3Jvbmc=',
    ])('a bad value (%#) yields no key and a reason that never contains the value', (base64) => {
      const reason = reasonOf(loadRootKey({ kind: 'env', base64 }));
      expect(reason).toContain('ROOT_KEY');
      if (base64.trim() !== '') {
        expect(reason).not.toContain(base64.trim());
        // Not even a sizeable piece of it.
        for (let at = 0; at + 8 <= base64.length; at++) expect(reason).not.toContain(base64.slice(at, at + 8));
      }
    });
  });

  describe('kind file', () => {
    it('loads a file holding base64 with a trailing newline', () => {
      const path = join(dir, 'root.key');
      writeFileSync(path, `${KEY_BASE64}\n`);
      expect(loadRootKey({ kind: 'file', path })).toEqual({ key: KEY, generated: false });
    });

    it('loads a file holding 32 raw bytes', () => {
      const path = join(dir, 'root.bin');
      writeFileSync(path, KEY);
      expect(loadRootKey({ kind: 'file', path })).toEqual({ key: KEY, generated: false });
    });

    it('a missing file yields no key and a reason naming the path', () => {
      const path = join(dir, 'missing', 'root.key');
      const reason = reasonOf(loadRootKey({ kind: 'file', path }));
      expect(reason).toContain(path);
      expect(existsSync(path)).toBe(false);
    });

    it.each<[string, string | Buffer]>([
      ['empty', ''],
      ['text', 'hello\n'],
      ['31 raw bytes', randomBytes(31)],
      ['base64 of 16 bytes', `${randomBytes(16).toString('base64')}\n`],
    ])('a file with bad content (%s) yields no key and a reason naming the path but not the content', (_name, content) => {
      const path = join(dir, 'root.key');
      writeFileSync(path, content);
      const reason = reasonOf(loadRootKey({ kind: 'file', path }));
      expect(reason).toContain(path);
      const text = Buffer.from(content).toString('utf8').trim();
      if (text.length >= 4) expect(reason).not.toContain(text);
    });

    it('a directory at the path yields no key instead of throwing', () => {
      const load = loadRootKey({ kind: 'file', path: dir });
      expect(reasonOf(load)).toContain(dir);
    });
  });

  describe('kind generate', () => {
    it('creates the file with mode 0600, in nested missing directories, and reports generated: true', () => {
      const path = join(dir, 'a', 'b', 'c', 'root.key');
      const first = loadRootKey({ kind: 'generate', path });
      expect(first).toMatchObject({ generated: true });
      const key = keyOf(first);
      expect(key).toHaveLength(32);
      expect(key.equals(Buffer.alloc(32))).toBe(false);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true);
      expect(readFileSync(path, 'utf8')).toBe(`${key.toString('base64')}\n`);
    });

    it('creates missing directories without group or world access', () => {
      const path = join(dir, 'nested', 'root.key');
      loadRootKey({ kind: 'generate', path });
      expect(statSync(join(dir, 'nested')).mode & 0o077).toBe(0);
    });

    it('returns the same key with generated: false the second time, without rewriting the file', () => {
      const path = join(dir, 'root.key');
      const first = keyOf(loadRootKey({ kind: 'generate', path }));
      const written = readFileSync(path);
      const second = loadRootKey({ kind: 'generate', path });
      expect(second).toEqual({ key: first, generated: false });
      expect(readFileSync(path)).toEqual(written);
      // The same file also loads as kind "file".
      expect(loadRootKey({ kind: 'file', path })).toEqual({ key: first, generated: false });
    });

    it('generates a different key for a different path', () => {
      const a = keyOf(loadRootKey({ kind: 'generate', path: join(dir, 'a.key') }));
      const b = keyOf(loadRootKey({ kind: 'generate', path: join(dir, 'b.key') }));
      expect(a.equals(b)).toBe(false);
    });

    it('uses an existing valid file instead of generating', () => {
      const path = join(dir, 'root.key');
      writeFileSync(path, `${KEY_BASE64}\n`);
      expect(loadRootKey({ kind: 'generate', path })).toEqual({ key: KEY, generated: false });
    });

    it('a file with bad content yields no key and a reason naming the path, and is left alone', () => {
      const path = join(dir, 'root.key');
      writeFileSync(path, 'not a key\n');
      const reason = reasonOf(loadRootKey({ kind: 'generate', path }));
      expect(reason).toContain(path);
      expect(reason).not.toContain('not a key');
      expect(readFileSync(path, 'utf8')).toBe('not a key\n');
    });

    it('an empty file is bad content, not an invitation to overwrite', () => {
      const path = join(dir, 'root.key');
      writeFileSync(path, '');
      expect(reasonOf(loadRootKey({ kind: 'generate', path }))).toContain(path);
      expect(readFileSync(path)).toHaveLength(0);
    });

    it('works when the directory already exists', () => {
      mkdirSync(join(dir, 'exists'));
      const path = join(dir, 'exists', 'root.key');
      expect(loadRootKey({ kind: 'generate', path })).toMatchObject({ generated: true });
    });
  });
});
