import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer } from '../support/service-process';

jest.setTimeout(180_000);

const problemType = (answer: HttpAnswer): string => answer.json<{ type: string }>().type.replace('urn:keyward:problem:', '');

/** The cookie a Set-Cookie header hands out, as a browser would send it back. */
function cookieOf(answer: HttpAnswer): { header: string; attributes: string } {
  const set = answer.headers['set-cookie'];
  const line = Array.isArray(set) ? set[0]! : String(set);
  const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
  return { header: pair, attributes: attributes.join('; ') };
}

describe('console sessions: an API key exchanged for a cookie that authenticates the same routes under the same rules', () => {
  const stack = new KeywardStack();
  let alice: string;
  let other: { tenantId: string; adminKey: string };
  let otherKeyId: string;

  const signIn = async (apiKey: string) => {
    const answer = await stack.call(apiKey, 'POST', '/v1/session');
    expect(answer.status).toBe(201);
    const body = answer.json<{ csrfToken: string; role: string; tenantId: string }>();
    return { cookie: cookieOf(answer), csrf: body.csrfToken, body, answer };
  };
  const withCookie = (cookie: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    stack.api.request(method, path, { headers: { cookie, ...headers }, ...(body === undefined ? {} : { body }) });

  beforeAll(async () => {
    await stack.start();
    ({ adminKey: alice } = await stack.onboard('Console A'));
    other = await stack.onboard('Console B');
    const made = await stack.call(other.adminKey, 'POST', '/v1/keys', { activate: true });
    otherKeyId = made.json<{ key: { keyId: string } }>().key.keyId;
  });
  afterAll(() => stack.stop());

  it('signing in answers an httpOnly, Secure, SameSite=Strict, short-lived __Host- cookie and never the API key', async () => {
    const { cookie, body, answer } = await signIn(alice);
    expect(cookie.header).toMatch(/^__Host-keyward-session=kws_[A-Za-z0-9_-]{43}$/);
    expect(cookie.attributes).toBe('Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=900');
    expect(body).toMatchObject({ role: 'tenant-admin' });
    expect(answer.body).not.toContain(alice);
    expect(answer.body).not.toContain(cookie.header.split('=')[1]);
    // The session is stored under the SHA-256 of its token only.
    const stored = await stack.db.collection('console_sessions').find({}).toArray();
    expect(JSON.stringify(stored)).not.toContain(cookie.header.split('=')[1]);
    // Nor in key-api's log.
    expect((await withCookie(cookie.header, 'GET', '/v1/keys?limit=1')).status).toBe(200);
    expect(stack.api.output.join('')).not.toContain(cookie.header.split('=')[1]);
    expect(stack.api.output.join('')).not.toContain(alice);
  });

  it('the cookie reads; a change needs the CSRF token; a session cannot open another one', async () => {
    const { cookie, csrf } = await signIn(alice);
    expect((await withCookie(cookie.header, 'GET', '/v1/keys')).status).toBe(200);
    const current = await withCookie(cookie.header, 'GET', '/v1/session');
    expect([current.status, current.json<{ csrfToken: string }>().csrfToken]).toEqual([200, csrf]);

    const noToken = await withCookie(cookie.header, 'POST', '/v1/keys', { activate: true });
    expect([noToken.status, problemType(noToken)]).toEqual([403, 'csrf-refused']);
    const wrongToken = await withCookie(cookie.header, 'POST', '/v1/keys', { activate: true }, { 'x-csrf-token': 'A'.repeat(43) });
    expect([wrongToken.status, problemType(wrongToken)]).toEqual([403, 'csrf-refused']);
    const made = await withCookie(cookie.header, 'POST', '/v1/keys', { activate: true }, { 'x-csrf-token': csrf });
    expect(made.status).toBe(201);

    const again = await withCookie(cookie.header, 'POST', '/v1/session', undefined, { 'x-csrf-token': csrf });
    expect([again.status, problemType(again)]).toEqual([403, 'session-needs-api-key']);
    // With a bearer key there is no session to describe.
    const bearer = await stack.call(alice, 'GET', '/v1/session');
    expect([bearer.status, problemType(bearer)]).toEqual([404, 'no-session']);
  });

  it("the same role rules: a tenant-admin's cookie cannot use a key, nor see another tenant's key, audit trail or tenant list", async () => {
    const { cookie, csrf } = await signIn(alice);
    const foreign = await withCookie(cookie.header, 'GET', `/v1/keys/${otherKeyId}`);
    expect([foreign.status, problemType(foreign)]).toEqual([404, 'not-found']);
    const rotate = await withCookie(cookie.header, 'POST', `/v1/keys/${otherKeyId}/rotate`, {}, { 'x-csrf-token': csrf });
    expect(rotate.status).toBe(404);
    const audit = await withCookie(cookie.header, 'GET', `/v1/audit/events?tenantId=${other.tenantId}`);
    expect(audit.status).toBe(404);
    const tenants = await withCookie(cookie.header, 'GET', '/v1/tenants');
    expect([tenants.status, problemType(tenants)]).toEqual([403, 'forbidden-role']);
    const encrypt = await withCookie(
      cookie.header,
      'POST',
      `/v1/keys/${otherKeyId}/encrypt`,
      { plaintext: 'aGk=' },
      { 'x-csrf-token': csrf },
    );
    expect(encrypt.status).toBe(403);
  });

  it('signing out ends the session: the same cookie is refused afterwards', async () => {
    const { cookie, csrf } = await signIn(alice);
    const withoutToken = await withCookie(cookie.header, 'DELETE', '/v1/session');
    expect([withoutToken.status, problemType(withoutToken)]).toEqual([403, 'csrf-refused']);
    const out = await withCookie(cookie.header, 'DELETE', '/v1/session', undefined, { 'x-csrf-token': csrf });
    expect(out.status).toBe(204);
    expect(cookieOf(out).attributes).toContain('Max-Age=0');
    const after = await withCookie(cookie.header, 'GET', '/v1/keys');
    expect([after.status, problemType(after)]).toEqual([401, 'unauthenticated']);
  });

  it('revoking the principal ends its sessions', async () => {
    const auditor = await stack.principalWithId(alice, 'auditor');
    const { cookie } = await signIn(auditor.apiKey);
    expect((await withCookie(cookie.header, 'GET', '/v1/keys')).status).toBe(200);
    expect((await stack.call(alice, 'DELETE', `/v1/principals/${auditor.principalId}`)).status).toBe(200);
    const after = await withCookie(cookie.header, 'GET', '/v1/keys');
    expect([after.status, problemType(after)]).toEqual([401, 'unauthenticated']);
  });

  it('made-up and malformed cookies are refused with 401 problems, never a 500', async () => {
    for (const value of ['kws_' + 'A'.repeat(43), 'nonsense', '', 'kws_%00']) {
      const answer = await withCookie(`__Host-keyward-session=${value}`, 'GET', '/v1/keys');
      expect([answer.status, problemType(answer)]).toEqual([401, 'unauthenticated']);
    }
  });

  it('serves the console at /console with a strict CSP and no inline script', async () => {
    const redirect = await stack.api.request('GET', '/console');
    expect([redirect.status, redirect.headers.location]).toEqual([302, '/console/']);
    const page = await stack.api.request('GET', '/console/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain('<script type="module" src="./app.js"></script>');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.body).not.toMatch(/\son[a-z]+=/i);
    const script = await stack.api.request('GET', '/console/app.js');
    expect([script.status, script.headers['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect((await stack.api.request('GET', '/console/../package.json')).status).toBe(404);
  });
});
