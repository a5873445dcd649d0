import 'reflect-metadata';
import { createPrivateKey, webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { KeywardStack } from '../support/keyward-stack';
import type { ClientCertificate } from '../support/service-process';
import { issueClientCert } from './support/client-certs';

jest.setTimeout(180_000);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/**
 * A client certificate from the trusted (development) CA whose subject is one CN attribute holding
 * a newline and "O=…": the kind a CA that signs what it is asked would mint.
 */
async function smuggledSubjectCert(caDir: string, cn: string): Promise<ClientCertificate> {
  x509.cryptoProvider.set(webcrypto);
  const caCert = new x509.X509Certificate(readFileSync(join(caDir, 'ca.crt'), 'utf8'));
  const caDer = createPrivateKey(readFileSync(join(caDir, 'ca.key'), 'utf8')).export({ format: 'der', type: 'pkcs8' });
  const caKey = await webcrypto.subtle.importKey('pkcs8', caDer, ALG, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '0badc0ffee01',
    subject: [{ CN: [cn] }],
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALG,
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  });
  const keyDer = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    cert: cert.toString('pem'),
    key: createPrivateKey({ key: keyDer, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/** Finding 12 of issue 23: subject bindings compare parsed attributes exactly, never text. */
describe('a subject binding is not satisfied by a CN that contains a newline and O= (real key-api over mutual TLS)', () => {
  const stack = new KeywardStack();
  let alice: string;
  let auditor: string;
  let auditorId: string;

  const read = (clientCert?: ClientCertificate) =>
    stack.api.request('GET', '/v1/keys', { headers: { authorization: `Bearer ${auditor}` }, ...(clientCert ? { clientCert } : {}) });

  beforeAll(async () => {
    await stack.start();
    ({ adminKey: alice } = await stack.onboard('Subject Binding Corp'));
    auditor = await stack.principal(alice, 'auditor');
    await stack.api.waitFor(async () => {
      const items = (await stack.call(alice, 'GET', '/v1/principals')).json<{ items: { principalId: string; role: string }[] }>().items;
      auditorId = items.find((p) => p.role === 'auditor')?.principalId ?? '';
      return auditorId !== '';
    }, 30_000);
    const bound = await stack.call(alice, 'PUT', `/v1/principals/${auditorId}/certificate`, { subject: 'CN=reporting, O=Acme' });
    expect(bound.status).toBe(200);
  });
  afterAll(() => stack.stop());

  it('accepts a certificate whose subject is exactly CN=reporting, O=Acme', async () => {
    const genuine = await issueClientCert({
      dataDir: stack.dataDir,
      out: mkdtempSync(join(tmpdir(), 'kw-subject-')),
      subject: 'O=Acme, CN=reporting',
    });
    expect((await read(genuine)).status).toBe(200);
  });

  it('refuses a trusted certificate whose only attribute is CN="reporting\\nO=Acme"', async () => {
    const smuggled = await smuggledSubjectCert(join(stack.dataDir, 'tls'), 'reporting\nO=Acme');
    const answer = await read(smuggled);
    expect([answer.status, answer.json<{ type: string }>().type]).toEqual([401, 'urn:keyward:problem:client-certificate-required']);
  });
});
