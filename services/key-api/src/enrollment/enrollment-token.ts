import { createHash, randomBytes } from 'node:crypto';

/**
 * One-time enrollment tokens: `kwe.<log id>.<principal id>.<256-bit secret>`. The ids say which
 * log to decide in (no lookup table to forge); only the secret's SHA-256 is kept, in the log.
 */
const TOKEN = /^kwe\.(provider|tnt_[A-Za-z0-9]{8,40})\.(prn_[A-Za-z0-9]{8,40})\.([A-Za-z0-9_-]{43})$/;

export interface ParsedEnrollmentToken {
  readonly logId: string;
  readonly principalId: string;
  readonly tokenHash: string;
}

export function hashEnrollmentSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A new token for a principal of a log; the token goes to the caller once, its hash to the log. */
export function newEnrollmentToken(logId: string, principalId: string): { token: string; tokenHash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { token: `kwe.${logId}.${principalId}.${secret}`, tokenHash: hashEnrollmentSecret(secret) };
}

export function parseEnrollmentToken(token: string): ParsedEnrollmentToken | undefined {
  const match = TOKEN.exec(token);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  return { logId: match[1], principalId: match[2], tokenHash: hashEnrollmentSecret(match[3]) };
}
