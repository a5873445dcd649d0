import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `kw_<credential id>_<secret>`: the id finds the stored record in one
 * indexed read; the 256-bit secret is stored only as its SHA-256 and compared in constant time.
 */
const API_KEY = /^kw_([A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface IssuedApiKey {
  /** Shown to the caller once, never stored. */
  readonly apiKey: string;
  readonly credentialId: string;
  readonly secretHash: string;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Uniformly random alphanumeric string (rejection sampling, no modulo bias). */
export function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHANUMERIC.charAt(byte % 62);
    }
  }
  return out;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function issueApiKey(): IssuedApiKey {
  const credentialId = randomAlphanumeric(16);
  const secret = randomBytes(32).toString('base64url');
  return { apiKey: `kw_${credentialId}_${secret}`, credentialId, secretHash: hashSecret(secret) };
}

export function parseApiKey(value: string): { credentialId: string; secret: string } | undefined {
  const match = API_KEY.exec(value);
  return match?.[1] && match[2] ? { credentialId: match[1], secret: match[2] } : undefined;
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

/** Time-ordered, URL-safe identifiers such as `key_0lz3k9f2xA8b...`: sortable by creation. */
export function newId(prefix: string, now = Date.now()): string {
  return `${prefix}_${now.toString(36).padStart(9, '0')}${randomAlphanumeric(14)}`;
}
