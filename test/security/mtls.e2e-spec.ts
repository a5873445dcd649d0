import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { KeywardStack } from '../support/keyward-stack';
import { ServiceProcess, type ClientCertificate, type HttpAnswer } from '../support/service-process';
import { issueClientCert, type IssuedCert } from './support/client-certs';

jest.setTimeout(180_000);

const problemType = (answer: HttpAnswer): string => answer.json<{ type: string }>().type.replace('urn:keyward:problem:', '');

interface Issued {
  principalId: string;
  apiKey: string;
}

describe('mutual TLS: principals bound to a client certificate (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  const certDir = mkdtempSync(join(tmpdir(), 'kw-certs-'));
  /** A CA key-api does not trust: certificates from it are never verified. */
  const foreignData = mkdtempSync(join(tmpdir(), 'kw-foreign-ca-'));
  let admin: string;
  let otherAdmin: string;
  let keyId: string;
  let user: Issued;
  let bound: IssuedCert;
  let sameCaOther: IssuedCert;
  let foreign: IssuedCert;

  const as = (key: string, method: string, path: string, body?: unknown, clientCert?: ClientCertificate, api: ServiceProcess = stack.api) =>
    api.request(method, path, {
      headers: { authorization: `Bearer ${key}` },
      ...(body === undefined ? {} : { body }),
      ...(clientCert ? { clientCert } : {}),
    });
  const encrypt = (key: string, clientCert?: ClientCertificate, api?: ServiceProcess) =>
    as(key, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: 'aGVsbG8=' }, clientCert, api);
  const newPrincipal = (role = 'key-user'): Promise<Issued> => stack.principalWithId(admin, role, `mtls-${role}`);
  const bind = (principalId: string, body: unknown, key = admin) =>
    stack.call(key, 'PUT', `/v1/principals/${principalId}/certificate`, body);

  beforeAll(async () => {
    await stack.start();
    ({ adminKey: admin } = await stack.onboard('Mutual TLS Corp'));
    ({ adminKey: otherAdmin } = await stack.onboard('Mutual TLS Neighbour'));
    const made = await stack.call(admin, 'POST', '/v1/keys', { activate: true });
    expect(made.status).toBe(201);
    keyId = made.json<{ key: { keyId: string } }>().key.keyId;
    user = await newPrincipal();
    // The shipped CLI issues from the development CA key-api generated in its data folder.
    bound = await issueClientCert({ dataDir: stack.dataDir, out: certDir, cn: 'billing-app' });
    sameCaOther = await issueClientCert({ dataDir: stack.dataDir, out: certDir, cn: 'intruder' });
    foreign = await issueClientCert({ dataDir: foreignData, out: join(certDir, 'foreign'), cn: 'billing-app' });
  });
  afterAll(() => stack.stop());

  it('the CLI prints a SHA-256 fingerprint and issues client-only certificates', () => {
    expect(bound.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(bound.subject).toBe('CN=billing-app');
    expect(foreign.fingerprint).not.toBe(bound.fingerprint);
  });

  it('an unbound principal works with its API key alone, with or without a certificate', async () => {
    expect((await encrypt(user.apiKey)).status).toBe(200);
    expect((await encrypt(user.apiKey, bound)).status).toBe(200);
    expect((await encrypt(user.apiKey, foreign)).status).toBe(200);
  });

  it('once bound by fingerprint, the API key alone is refused, and so is any other certificate', async () => {
    const answer = await bind(user.principalId, { fingerprint: bound.fingerprint.toUpperCase().replace(/(..)(?!$)/g, '$1:') });
    expect(answer.status).toBe(200);
    expect(answer.json<{ certificate: { fingerprint: string } }>().certificate.fingerprint).toBe(bound.fingerprint);

    const alone = await encrypt(user.apiKey);
    expect(alone.status).toBe(401);
    expect(alone.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(problemType(alone)).toBe('client-certificate-required');
    expect(alone.body).not.toContain(user.principalId);

    const other = await encrypt(user.apiKey, sameCaOther);
    expect([other.status, problemType(other)]).toEqual([401, 'client-certificate-required']);
    // Same subject, but from a CA key-api does not trust: never verified, never accepted.
    const untrusted = await encrypt(user.apiKey, foreign);
    expect([untrusted.status, problemType(untrusted)]).toEqual([401, 'client-certificate-required']);
    // Reads are refused too: the binding guards the credential, not just crypto routes.
    expect((await as(user.apiKey, 'GET', '/v1/keys')).status).toBe(401);
  });

  it('the bound principal is accepted with its certificate, by every key-api instance', async () => {
    for (let i = 0; i < 3; i++) {
      const answer = await encrypt(user.apiKey, bound);
      expect(answer.status).toBe(200);
      const { ciphertext } = answer.json<{ ciphertext: string }>();
      const clear = await as(user.apiKey, 'POST', '/v1/decrypt', { ciphertext }, bound);
      expect(clear.json<{ plaintext: string }>().plaintext).toBe('aGVsbG8=');
    }
    // Another key-api instance (no cached credential) enforces the same binding.
    const second = await stack.startApi();
    try {
      expect((await encrypt(user.apiKey, undefined, second)).status).toBe(401);
      expect((await encrypt(user.apiKey, bound, second)).status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it('a resumed TLS session keeps the verified certificate (new connection each request)', async () => {
    // Still bound by fingerprint from the test before; every request opens its own connection.
    const agent = new Agent({ keepAlive: false, maxCachedSessions: 10 });
    const results: { status: number; reused: boolean }[] = [];
    for (let i = 0; i < 3; i++) {
      results.push(
        await new Promise((resolve, reject) => {
          const url = new URL(`/v1/keys/${keyId}/encrypt`, stack.api.baseUrl);
          const req = httpsRequest(
            url,
            {
              method: 'POST',
              agent,
              ca: readFileSync(join(stack.dataDir, 'tls', 'ca.crt')),
              cert: bound.cert,
              key: bound.key,
              headers: { authorization: `Bearer ${user.apiKey}`, 'content-type': 'application/json' },
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: (res.socket as TLSSocket).isSessionReused() }));
            },
          );
          req.on('error', reject);
          req.end(JSON.stringify({ plaintext: 'aGk=' }));
        }),
      );
    }
    agent.destroy();
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.some((r) => r.reused)).toBe(true);
  });

  it('a binding by subject accepts any trusted certificate with exactly that subject', async () => {
    const byName = await newPrincipal('auditor');
    const renewed = await issueClientCert({ dataDir: stack.dataDir, out: join(certDir, 'renewed'), subject: 'O=Acme, CN=reporting' });
    const answer = await bind(byName.principalId, { subject: 'CN=reporting,O=Acme' });
    expect(answer.status).toBe(200);
    expect(answer.json<{ certificate: { subject: string } }>().certificate.subject).toBe('CN=reporting, O=Acme');
    expect((await as(byName.apiKey, 'GET', '/v1/keys', undefined, renewed)).status).toBe(200);
    expect((await as(byName.apiKey, 'GET', '/v1/keys')).status).toBe(401);
    // CN=billing-app lacks O=Acme; a foreign CA's certificate with the right subject is not trusted.
    expect((await as(byName.apiKey, 'GET', '/v1/keys', undefined, bound)).status).toBe(401);
    const foreignNamed = await issueClientCert({ dataDir: foreignData, out: join(certDir, 'foreign2'), subject: 'CN=reporting, O=Acme' });
    expect((await as(byName.apiKey, 'GET', '/v1/keys', undefined, foreignNamed)).status).toBe(401);
  });

  it('only a tenant-admin binds, only principals of its own tenant, and only well-formed bindings', async () => {
    const target = await newPrincipal();
    expect((await bind(target.principalId, { fingerprint: bound.fingerprint }, user.apiKey)).status).toBe(401); // user is bound itself
    const auditorKey = await stack.principal(admin, 'auditor');
    const refused = await bind(target.principalId, { fingerprint: bound.fingerprint }, auditorKey);
    expect([refused.status, problemType(refused)]).toEqual([403, 'forbidden-role']);
    const foreignTenant = await bind(target.principalId, { fingerprint: bound.fingerprint }, otherAdmin);
    expect(foreignTenant.status).toBe(404);
    expect((await bind('prn_0000000000000000000000', { fingerprint: bound.fingerprint })).status).toBe(404);
    for (const body of [{}, { fingerprint: 'abc' }, { fingerprint: bound.fingerprint, extra: 1 }, { subject: 'not a dn' }]) {
      const answer = await bind(target.principalId, body);
      expect([answer.status, problemType(answer)]).toEqual([400, 'validation']);
    }
    // Still unbound after all that.
    expect((await encrypt(target.apiKey)).status).toBe(200);
    // A revoked principal cannot be bound.
    expect((await stack.call(admin, 'DELETE', `/v1/principals/${target.principalId}`)).status).toBe(200);
    expect((await bind(target.principalId, { fingerprint: bound.fingerprint })).status).toBe(404);
  });

  it('unbinding makes the API key work alone again', async () => {
    const answer = await stack.call(admin, 'DELETE', `/v1/principals/${user.principalId}/certificate`);
    expect(answer.status).toBe(200);
    expect(answer.json<{ certificate: null }>().certificate).toBeNull();
    expect((await encrypt(user.apiKey)).status).toBe(200);
  });

  it('KEY_API_MTLS=required refuses every connection without a trusted certificate', async () => {
    // Started (and health-checked) presenting the bound certificate.
    const strict = await ServiceProcess.start('key-api', { ...stack.env, KEY_API_MTLS: 'required' }, { clientCert: bound });
    try {
      strict.clientCert = undefined;
      await expect(strict.get('/health/live')).rejects.toThrow();
      await expect(strict.request('GET', '/health/live', { clientCert: foreign })).rejects.toThrow();
      expect((await strict.request('GET', '/health/live', { clientCert: sameCaOther })).status).toBe(200);
      // A trusted certificate opens the connection; the API key still decides who calls.
      expect((await encrypt(user.apiKey, sameCaOther, strict)).status).toBe(200);
      expect((await as('kw_AAAAAAAAAAAAAAAA_' + 'B'.repeat(43), 'GET', '/v1/keys', undefined, sameCaOther, strict)).status).toBe(401);
    } finally {
      await strict.stop();
    }
  });
});
