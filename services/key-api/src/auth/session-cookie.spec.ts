import type { FastifyRequest } from 'fastify';
import { csrfTokenOf } from '@keyward/auth';
import { clearedSessionCookie, csrfHolds, sessionCookie, sessionCookieOf } from './session-cookie';

const request = (method: string, headers: Record<string, string>): FastifyRequest => ({ method, headers }) as unknown as FastifyRequest;
const token = `kws_${'a'.repeat(43)}`;

describe('the console session cookie', () => {
  it('is httpOnly, Secure, SameSite=Strict, host-only (__Host-) and expires with the session', () => {
    expect(sessionCookie(token, 900_000)).toBe(`__Host-keyward-session=${token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=900`);
    expect(clearedSessionCookie()).toContain('Max-Age=0');
  });

  it('is read from the cookie header among others, and only under its own name', () => {
    expect(sessionCookieOf(request('GET', { cookie: `a=1; __Host-keyward-session=${token}; b=2` }))).toBe(token);
    expect(sessionCookieOf(request('GET', { cookie: `keyward-session=${token}` }))).toBeUndefined();
    expect(sessionCookieOf(request('GET', {}))).toBeUndefined();
  });
});

describe('CSRF: a change made with the cookie must echo the session CSRF token', () => {
  it('lets reads through and refuses a change without the token, with another one, or with a truncated one', () => {
    expect(csrfHolds(request('GET', {}), token)).toBe(true);
    expect(csrfHolds(request('HEAD', {}), token)).toBe(true);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(csrfHolds(request(method, {}), token)).toBe(false);
      expect(csrfHolds(request(method, { 'x-csrf-token': csrfTokenOf(`kws_${'b'.repeat(43)}`) }), token)).toBe(false);
      expect(csrfHolds(request(method, { 'x-csrf-token': csrfTokenOf(token).slice(1) }), token)).toBe(false);
      expect(csrfHolds(request(method, { 'x-csrf-token': csrfTokenOf(token) }), token)).toBe(true);
    }
  });
});
