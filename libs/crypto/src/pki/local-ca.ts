import 'reflect-metadata';
import { X509Certificate, randomBytes, webcrypto, createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 86_400_000;

export interface TlsFiles {
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
}

export interface ServerTlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  readonly files: TlsFiles;
  readonly created: boolean;
}

function writeSecret(path: string, content: string): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}

async function importKeyPem(pem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
  return webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign']);
}

/** Development CA under `<dir>/ca.crt` + `ca.key` (0600), created on first use. */
export async function ensureLocalCa(dir: string): Promise<{ cert: x509.X509Certificate; key: webcrypto.CryptoKey; certPem: string }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const certPem = readFileSync(certPath, 'utf8');
    return { cert: new x509.X509Certificate(certPem), key: await importKeyPem(readFileSync(keyPath, 'utf8')), certPem };
  }
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=Keyward local development CA',
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 3650 * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = cert.toString('pem');
  writeSecret(keyPath, await exportKeyPem(keys.privateKey));
  writeFileSync(certPath, certPem + '\n');
  return { cert, key: keys.privateKey, certPem };
}

/** Issues a leaf certificate from the CA in `caDir` (server or client use). */
export async function issueCertificate(
  caDir: string,
  subject: string,
  opts: { readonly dns?: readonly string[]; readonly ips?: readonly string[]; readonly days: number; readonly usage: 'server' | 'client' },
): Promise<{ certPem: string; keyPem: string; caPem: string }> {
  const ca = await ensureLocalCa(caDir);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const names = [
    ...(opts.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + opts.days * DAY),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([opts.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey), caPem: ca.certPem + '\n' };
}

/**
 * Development TLS for key-api: a local CA and a server certificate for localhost, 127.0.0.1,
 * ::1 and the listen host, under `dir`. Reused while valid for at least 30 more days.
 */
export async function ensureServerTls(dir: string, host: string): Promise<ServerTlsMaterial> {
  const files: TlsFiles = { caCert: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  if (existsSync(files.cert) && existsSync(files.key) && existsSync(files.caCert)) {
    const cert = readFileSync(files.cert);
    const parsed = new X509Certificate(cert);
    const fresh = Date.parse(parsed.validTo) - Date.now() > 30 * DAY;
    const coversHost = parsed.checkHost(host) !== undefined || parsed.checkIP(host) !== undefined;
    if (fresh && coversHost) {
      return { cert, key: readFileSync(files.key), ca: readFileSync(files.caCert), files, created: false };
    }
  }
  const ipLike = /^[\d.]+$|:/.test(host);
  const dns = ['localhost', ...(ipLike ? [] : [host])];
  const ips = ['127.0.0.1', '::1', ...(ipLike && host !== '127.0.0.1' && host !== '::1' ? [host] : [])];
  const issued = await issueCertificate(dir, 'CN=keyward key-api', { dns, ips, days: 397, usage: 'server' });
  writeSecret(files.key, issued.keyPem);
  writeFileSync(files.cert, issued.certPem);
  return { cert: Buffer.from(issued.certPem), key: Buffer.from(issued.keyPem), ca: Buffer.from(issued.caPem), files, created: true };
}

export interface IssuedClientCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
  /** SHA-256 of the certificate's DER, lowercase hex: what `PUT /v1/principals/{id}/certificate` binds. */
  readonly fingerprint: string;
  readonly subject: string;
  readonly notAfter: Date;
}

/** The signing parameters for a CA private key: ECDSA P-256/P-384 or RSA. */
function caSigning(keyPem: string): {
  importAlg: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  signAlg: webcrypto.EcdsaParams | webcrypto.Algorithm;
} {
  const key = createPrivateKey(keyPem);
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { importAlg: { name: 'ECDSA', namedCurve: 'P-256' }, signAlg: { name: 'ECDSA', hash: 'SHA-256' } };
    if (curve === 'secp384r1') return { importAlg: { name: 'ECDSA', namedCurve: 'P-384' }, signAlg: { name: 'ECDSA', hash: 'SHA-384' } };
    throw new Error(`unsupported CA key curve ${curve ?? '?'} (use P-256, P-384 or RSA)`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { importAlg: alg, signAlg: alg };
  }
  throw new Error(`unsupported CA key type ${key.asymmetricKeyType ?? '?'} (use ECDSA or RSA)`);
}

/**
 * Issues a client certificate (clientAuth only) for mutual TLS with key-api, from the
 * development CA in `ca.dir` (created on first use) or from a given CA certificate and key.
 */
export async function issueClientCertificate(opts: {
  /** Subject DN, e.g. `CN=billing-app, O=Acme`. */
  readonly subject: string;
  readonly days: number;
  readonly ca: { readonly dir: string } | { readonly certPem: string; readonly keyPem: string };
}): Promise<IssuedClientCertificate> {
  if (!Number.isInteger(opts.days) || opts.days < 1 || opts.days > 825) throw new Error('days must be an integer from 1 to 825');
  let caCert: x509.X509Certificate;
  let caKey: webcrypto.CryptoKey;
  let caPem: string;
  let signAlg: webcrypto.EcdsaParams | webcrypto.Algorithm = ALG;
  if ('dir' in opts.ca) {
    const local = await ensureLocalCa(opts.ca.dir);
    [caCert, caKey, caPem] = [local.cert, local.key, local.certPem];
  } else {
    const checked = new X509Certificate(opts.ca.certPem);
    if (!checked.ca) throw new Error('the CA certificate is not a CA (basicConstraints cA is not set)');
    if (!checked.checkPrivateKey(createPrivateKey(opts.ca.keyPem))) throw new Error('the CA key does not belong to the CA certificate');
    const signing = caSigning(opts.ca.keyPem);
    const der = createPrivateKey(opts.ca.keyPem).export({ format: 'der', type: 'pkcs8' });
    caKey = await webcrypto.subtle.importKey('pkcs8', der, signing.importAlg, false, ['sign']);
    caCert = new x509.X509Certificate(opts.ca.certPem);
    caPem = opts.ca.certPem.trim();
    signAlg = signing.signAlg;
  }
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const notAfter = new Date(Math.min(now + opts.days * DAY, caCert.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: opts.subject,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: signAlg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const certPem = cert.toString('pem') + '\n';
  return {
    certPem,
    keyPem: await exportKeyPem(keys.privateKey),
    caPem: caPem + '\n',
    fingerprint: new X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase(),
    subject: cert.subject,
    notAfter,
  };
}
