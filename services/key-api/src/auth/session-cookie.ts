import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { csrfTokenOf } from '@keyward/auth';

/** `__Host-`: the browser keeps it only if Secure, Path=/ and without Domain (no subdomain can set or read it). */
export const SESSION_COOKIE = '__Host-keyward-session';
/** The header a cookie-authenticated request that changes something must carry (GET /v1/session answers its value). */
export const CSRF_HEADER = 'x-csrf-token';
/** Console sessions are short-lived: signing in again takes one paste of the API key. */
export const SESSION_LIFETIME_MS = 15 * 60_000;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session token of the request's cookie header, if any. */
export function sessionCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === SESSION_COOKIE) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for a new session: httpOnly (no script reads it), Secure, SameSite=Strict, expiring with the session. */
export function sessionCookie(token: string, lifetimeMs: number): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${Math.floor(lifetimeMs / 1000)}`;
}

/** Set-Cookie that makes the browser drop the session cookie. */
export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0`;
}

/**
 * Whether a cookie-authenticated request passes the CSRF check: reads always do; anything else must
 * echo the session's CSRF token in `x-csrf-token` (compared in constant time). A cross-site page can
 * neither read that token nor, under SameSite=Strict, send the cookie at all.
 */
export function csrfHolds(request: FastifyRequest, token: string): boolean {
  if (SAFE_METHODS.has(request.method)) return true;
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string') return false;
  const expected = Buffer.from(csrfTokenOf(token));
  const given = Buffer.from(sent);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
