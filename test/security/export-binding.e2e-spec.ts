import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywardStack } from '../support/keyward-stack';
import type { ClientCertificate, ServiceProcess } from '../support/service-process';
import { issueClientCert, type IssuedCert } from './support/client-certs';

jest.setTimeout(180_000);

/**
 * Finding 12 of issue 23: releasing key material checked that the principal had some certificate
 * binding, not that the certificate presented is the one bound. Now the release reads the binding
 * from the tenant's log as the store has it and compares it with the presented certificate.
 */
describe('key export needs the certificate the principal is bound to now, on every key-api instance', () => {
  const stack = new KeywardStack();
  const certDir = mkdtempSync(join(tmpdir(), 'kw-export-binding-'));
  const publicKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  let alice: string;
  let user: string;
  let userId: string;
  let keyId: string;
  let first: IssuedCert;
  let second: IssuedCert;
  let other: ServiceProcess;

  const release = (api: ServiceProcess, clientCert: ClientCertificate) =>
    api.request('POST', `/v1/keys/${keyId}/material`, { headers: { authorization: `Bearer ${user}` }, body: { publicKey }, clientCert });
  const bind = (fingerprint: string) => stack.call(alice, 'PUT', `/v1/principals/${userId}/certificate`, { fingerprint });

  beforeAll(async () => {
    await stack.start();
    ({ adminKey: alice } = await stack.onboard('Export Binding Corp'));
    user = await stack.principal(alice, 'key-user');
    await stack.api.waitFor(async () => {
      const items = (await stack.call(alice, 'GET', '/v1/principals')).json<{ items: { principalId: string; role: string }[] }>().items;
      userId = items.find((p) => p.role === 'key-user')?.principalId ?? '';
      return userId !== '';
    }, 30_000);
    keyId = (await stack.call(alice, 'POST', '/v1/keys', { activate: true, exportable: true })).json<{ key: { keyId: string } }>().key
      .keyId;
    // One admin: enabling export needs nobody else.
    expect((await stack.call(alice, 'POST', `/v1/keys/${keyId}/enable-export`, {})).status).toBe(200);
    first = await issueClientCert({ dataDir: stack.dataDir, out: join(certDir, 'first'), cn: 'hsm-sync' });
    second = await issueClientCert({ dataDir: stack.dataDir, out: join(certDir, 'second'), cn: 'hsm-sync' });
    expect((await bind(first.fingerprint)).status).toBe(200);
    other = await stack.startApi();
  });
  afterAll(async () => {
    await other.stop();
    await stack.stop();
  });

  it('after a rebinding, the previous certificate gets no material from any instance, the new one does', async () => {
    // The other instance has authenticated the principal with its first certificate (and keeps that briefly).
    expect((await release(other, first)).status).toBe(200);
    expect((await bind(second.fingerprint)).status).toBe(200);
    // Refused at once on every instance: 401 if it already knows of the rebinding, else 403 from the release check.
    expect([401, 403]).toContain((await release(other, first)).status);
    expect([401, 403]).toContain((await release(stack.api, first)).status);
    await other.waitFor(async () => (await release(other, second)).status === 200, 30_000);
    expect((await release(stack.api, second)).status).toBe(200);
  });
});
