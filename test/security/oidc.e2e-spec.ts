import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywardStack } from '../support/keyward-stack';
import type { ClientCertificate, HttpAnswer } from '../support/service-process';
import { issueClientCert } from './support/client-certs';
import { certificateThumbprint, forgedJwt, JwksServer, signingKey, signJwt, type SigningKey } from './support/jwks-server';

jest.setTimeout(180_000);

const ISSUER = 'https://idp.example.test/realms/keyward';
const AUDIENCE = 'keyward-key-api';
const problem = (answer: HttpAnswer): { type: string; detail?: string } => {
  const body = answer.json<{ type: string; detail?: string }>();
  return { ...body, type: body.type.replace('urn:keyward:problem:', '') };
};
const now = (): number => Math.floor(Date.now() / 1000);

describe('OIDC: JWTs from an identity provider as bearer tokens (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  const jwks = new JwksServer();
  const rsa = signingKey('RS256', 'rsa-1');
  const ec = signingKey('ES256', 'ec-1');
  /** Never published in the JWKS. */
  const stranger = signingKey('RS256', 'stranger');
  /** Published kid, but signed by another key. */
  const impostor = { ...signingKey('RS256', 'rsa-1'), kid: 'rsa-1' };
  let tenantA: string;
  let tenantB: string;
  let adminA: string;
  let adminB: string;
  let keyOfB: string;

  const claims = (tenant: string, role: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: `user-${role}`,
    iat: now(),
    exp: now() + 300,
    keyward_tenant: tenant,
    keyward_role: role,
    ...extra,
  });
  const token = (tenant: string, role: string, extra: Record<string, unknown> = {}, key: SigningKey = rsa): string =>
    signJwt(claims(tenant, role, extra), key);
  const call = (jwt: string, method: string, path: string, body?: unknown, clientCert?: ClientCertificate): Promise<HttpAnswer> =>
    stack.api.request(method, path, {
      headers: { authorization: `Bearer ${jwt}` },
      ...(body === undefined ? {} : { body }),
      ...(clientCert ? { clientCert } : {}),
    });
  const expectRefused = async (jwt: string, detail?: RegExp): Promise<void> => {
    const answer = await call(jwt, 'GET', '/v1/keys');
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(answer.headers['www-authenticate']).toContain('invalid_token');
    expect(problem(answer).type).toBe('unauthenticated');
    if (detail) expect(problem(answer).detail).toMatch(detail);
  };

  beforeAll(async () => {
    await jwks.start();
    jwks.keys.push(rsa, ec);
    Object.assign(stack.env, { OIDC_JWKS_URL: jwks.url, OIDC_ISSUER: ISSUER, OIDC_AUDIENCE: AUDIENCE });
    await stack.start();
    ({ tenantId: tenantA, adminKey: adminA } = await stack.onboard('OIDC Tenant A'));
    ({ tenantId: tenantB, adminKey: adminB } = await stack.onboard('OIDC Tenant B'));
    const made = await stack.call(adminB, 'POST', '/v1/keys', { activate: true, alias: 'b-secret' });
    keyOfB = made.json<{ key: { keyId: string } }>().key.keyId;
  });
  afterAll(async () => {
    await stack.stop();
    await jwks.stop();
  });

  it('a tenant-admin JWT (RS256) creates keys and a key-user JWT (ES256) encrypts and decrypts with them', async () => {
    const created = await call(token(tenantA, 'tenant-admin'), 'POST', '/v1/keys', { activate: true, alias: 'oidc-made' });
    expect(created.status).toBe(201);
    const { key, seq } = created.json<{ key: { keyId: string }; seq: number }>();

    const user = token(tenantA, 'key-user', { sub: 'svc-billing' }, ec);
    const encrypted = await call(user, 'POST', `/v1/keys/${key.keyId}/encrypt`, { plaintext: 'aGVsbG8=' });
    expect(encrypted.status).toBe(200);
    const decrypted = await call(user, 'POST', '/v1/decrypt', { ciphertext: encrypted.json<{ ciphertext: string }>().ciphertext });
    expect(decrypted.json<{ plaintext: string }>().plaintext).toBe('aGVsbG8=');

    // The tenant came from the token: the API-key admin of tenant A sees the key.
    expect((await stack.call(adminA, 'GET', `/v1/keys/${key.keyId}?minSeq=${seq}`)).status).toBe(200);
    // Roles still apply: a key-user cannot manage keys, a tenant-admin cannot use them.
    expect((await call(user, 'POST', '/v1/keys', {})).status).toBe(403);
    expect((await call(token(tenantA, 'tenant-admin'), 'POST', `/v1/keys/${key.keyId}/encrypt`, { plaintext: 'aGk=' })).status).toBe(403);
    // The principal is oidc:<sub> in the log's actor of the commit.
    const commit = await stack.db
      .collection<{ _id: string; events: { actor?: { principalId: string } }[] }>('commits')
      .findOne({ _id: `${tenantA}:${seq}` });
    expect(JSON.stringify(commit)).toContain('oidc:user-tenant-admin');
  });

  it('a provider-admin JWT (tenant claim "provider") onboards tenants', async () => {
    const answer = await call(token('provider', 'provider-admin'), 'POST', '/v1/tenants', { name: 'Onboarded by OIDC' });
    expect(answer.status).toBe(201);
    expect((await call(token('provider', 'provider-admin'), 'GET', '/v1/keys')).status).toBe(403);
  });

  it("another tenant's keys answer 404, exactly like missing ones", async () => {
    const user = token(tenantA, 'key-user');
    const foreign = await call(user, 'POST', `/v1/keys/${keyOfB}/encrypt`, { plaintext: 'aGk=' });
    const missing = await call(user, 'POST', '/v1/keys/key_0000000000000000000000/encrypt', { plaintext: 'aGk=' });
    expect([foreign.status, missing.status]).toEqual([404, 404]);
    expect(problem(foreign).type).toBe(problem(missing).type);
    expect((await call(token(tenantA, 'tenant-admin'), 'GET', `/v1/keys/${keyOfB}`)).status).toBe(404);
    expect((await call(token(tenantA, 'tenant-admin'), 'GET', '/v1/keys/alias/b-secret')).status).toBe(404);
    expect((await call(token(tenantB, 'tenant-admin'), 'GET', `/v1/keys/${keyOfB}`)).status).toBe(200);
  });

  it('refuses a token signed by an unknown key, or by another key under a published kid', async () => {
    await expectRefused(token(tenantA, 'key-user', {}, stranger), /signing key/);
    await expectRefused(token(tenantA, 'key-user', {}, impostor), /signature/);
  });

  it('refuses expired, not-yet-valid and never-expiring tokens', async () => {
    await expectRefused(token(tenantA, 'key-user', { iat: now() - 7200, exp: now() - 3600 }), /expired/);
    await expectRefused(token(tenantA, 'key-user', { nbf: now() + 3600 }), /not valid yet/);
    const { exp: _, ...forever } = claims(tenantA, 'key-user');
    await expectRefused(signJwt(forever, rsa), /exp/);
  });

  it('refuses tokens for another issuer or audience, and unsigned or HMAC tokens', async () => {
    await expectRefused(token(tenantA, 'key-user', { iss: 'https://evil.example.test' }));
    await expectRefused(token(tenantA, 'key-user', { aud: 'someone-else' }));
    await expectRefused(forgedJwt(claims(tenantA, 'key-user'), { alg: 'none' }));
    // HS256 with the RSA public key as the secret: the classic algorithm confusion.
    const publicPem = JSON.stringify(rsa.publicJwk);
    await expectRefused(forgedJwt(claims(tenantA, 'key-user'), { alg: 'HS256', secret: publicPem }));
  });

  it('refuses missing claims and roles that do not belong to the tenant', async () => {
    await expectRefused(token(tenantA, 'key-user', { keyward_tenant: undefined }), /keyward_tenant/);
    await expectRefused(token(tenantA, 'key-user', { keyward_role: undefined }), /keyward_role/);
    await expectRefused(token(tenantA, 'superuser'), /keyward_role/);
    await expectRefused(token(tenantA, 'key-user', { sub: undefined }), /sub/);
    await expectRefused(token('../etc', 'key-user'), /keyward_tenant/);
    // provider-admin only for the provider, and the provider only as provider-admin
    await expectRefused(token(tenantA, 'provider-admin'), /does not belong/);
    await expectRefused(token('provider', 'tenant-admin'), /does not belong/);
  });

  it('a certificate-bound token (cnf x5t#S256, RFC 8705) needs that client certificate', async () => {
    const cert = await issueClientCert({ dataDir: stack.dataDir, out: mkdtempSync(join(tmpdir(), 'kw-oidc-cert-')), cn: 'oidc-client' });
    const other = await issueClientCert({ dataDir: stack.dataDir, out: mkdtempSync(join(tmpdir(), 'kw-oidc-cert-')), cn: 'other' });
    const bound = token(tenantA, 'auditor', { cnf: { 'x5t#S256': certificateThumbprint(cert.cert) } });
    expect((await call(bound, 'GET', '/v1/keys', undefined, cert)).status).toBe(200);
    const alone = await call(bound, 'GET', '/v1/keys');
    expect([alone.status, problem(alone).type]).toEqual([401, 'client-certificate-required']);
    expect((await call(bound, 'GET', '/v1/keys', undefined, other)).status).toBe(401);
  });

  it('API keys keep working next to JWTs, and tokens of neither shape are refused', async () => {
    expect((await stack.call(adminA, 'GET', '/v1/keys')).status).toBe(200);
    expect((await call('not-a-token', 'GET', '/v1/keys')).status).toBe(401);
    expect((await call('eyJhbGciOiJub25lIn0', 'GET', '/v1/keys')).status).toBe(401);
  });

  it('an identity provider that cannot be reached answers 503, and signing keys it published are cached', async () => {
    jwks.failing = true;
    try {
      // A known kid is served from the cache.
      expect((await call(token(tenantA, 'auditor'), 'GET', '/v1/keys')).status).toBe(200);
      // A rotated-in key cannot be fetched.
      const rotated = signingKey('ES256', 'ec-2');
      jwks.keys.push(rotated);
      const answer = await call(token(tenantA, 'auditor', {}, rotated), 'GET', '/v1/keys');
      expect([answer.status, problem(answer).type]).toEqual([503, 'identity-provider-unavailable']);
      expect(answer.headers['retry-after']).toBeDefined();
      jwks.failing = false;
      expect((await call(token(tenantA, 'auditor', {}, rotated), 'GET', '/v1/keys')).status).toBe(200);
    } finally {
      jwks.failing = false;
    }
    // Unknown kids cannot make key-api hammer the identity provider.
    expect(jwks.fetches).toBeLessThanOrEqual(10);
  });
});
