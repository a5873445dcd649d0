import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { KEK_BYTES } from '../hierarchy/key-hierarchy';

/** Where the root key comes from (configuration decides; see ROOT_KEY, ROOT_KEY_FILE, ROOT_KEY_GENERATE). */
export type RootKeySource =
  | { readonly kind: 'env'; readonly base64: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'generate'; readonly path: string }
  | { readonly kind: 'none' };

export type RootKeyLoad = { readonly key: Buffer; readonly generated: boolean } | { readonly key: null; readonly reason: string };

/** Parses a root key given as base64 (44 characters) or, in a file, as 32 raw bytes. */
export function parseRootKey(input: Buffer | string): Buffer | null {
  if (Buffer.isBuffer(input) && input.length === KEK_BYTES) return Buffer.from(input);
  const text = (Buffer.isBuffer(input) ? input.toString('utf8') : input).trim();
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text)) return null;
  const key = Buffer.from(text, 'base64');
  return key.length === KEK_BYTES ? key : null;
}

function readKey(path: string): { key: Buffer } | { reason: string } {
  try {
    const key = parseRootKey(readFileSync(path));
    return key ? { key } : { reason: `${path} does not hold a 32-byte key` };
  } catch (err: unknown) {
    return { reason: `${path} could not be read (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
}

/** Loads the root key; a missing or unreadable key means "start sealed", never a crash. */
export function loadRootKey(source: RootKeySource): RootKeyLoad {
  switch (source.kind) {
    case 'none':
      return { key: null, reason: 'no root key is configured (ROOT_KEY or ROOT_KEY_FILE)' };
    case 'env': {
      const key = parseRootKey(source.base64);
      return key ? { key, generated: false } : { key: null, reason: 'ROOT_KEY is not 32 bytes of base64' };
    }
    case 'file': {
      if (!existsSync(source.path)) return { key: null, reason: `ROOT_KEY_FILE ${source.path} does not exist` };
      const read = readKey(source.path);
      return 'key' in read ? { key: read.key, generated: false } : { key: null, reason: `ROOT_KEY_FILE ${read.reason}` };
    }
    case 'generate': {
      let wrote = false;
      if (!existsSync(source.path)) {
        const key = randomBytes(KEK_BYTES);
        try {
          mkdirSync(dirname(source.path), { recursive: true, mode: 0o700 });
          // Exclusive create: of two processes starting at once, one writes and both read the winner.
          writeFileSync(source.path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
          wrote = true;
        } catch (err: unknown) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'EEXIST') return { key: null, reason: `cannot write a root key to ${source.path} (${code ?? String(err)})` };
        } finally {
          key.fill(0);
        }
      }
      const read = readKey(source.path);
      return 'key' in read ? { key: read.key, generated: wrote } : { key: null, reason: read.reason };
    }
  }
}
