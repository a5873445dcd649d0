// `npm run cert:issue -- --cn <name> --out <dir>`: issues a client certificate for mutual TLS with
// key-api, from the local development CA (KEYWARD_DATA/tls) or from a CA certificate and key you
// give, and prints its SHA-256 fingerprint for `PUT /v1/principals/{id}/certificate`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const repoRoot = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const USAGE = `usage: npm run cert:issue -- --cn <name> --out <dir> [options]

  --cn <name>          common name of the client (or --subject for a full DN)
  --subject <dn>       subject DN, e.g. "CN=billing-app, O=Acme"
  --out <dir>          folder for <name>.crt and <name>.key (the key is written 0600)
  --ca-cert <file>     CA certificate (PEM) to issue from; with --ca-key
  --ca-key <file>      CA private key (PEM, ECDSA P-256/P-384 or RSA)
  --data-dir <dir>     Keyward data folder holding the development CA in tls/ (default: KEYWARD_DATA or .keyward)
  --days <n>           validity in days (default 365, at most 825; never beyond the CA's)
  --force              overwrite existing files
  --json               print a JSON summary instead of text

Without --ca-cert/--ca-key the local development CA is used (and created if missing); key-api
trusts it for client certificates when it generates its own TLS material (development and test).`;

function fail(message) {
  console.error(`cert:issue: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      cn: { type: 'string' },
      subject: { type: 'string' },
      out: { type: 'string' },
      'ca-cert': { type: 'string' },
      'ca-key': { type: 'string' },
      'data-dir': { type: 'string' },
      days: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (err) {
  fail(err.message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!values.cn === !values.subject) fail('give --cn or --subject (one of them)');
if (!values.out) fail('--out is required');
if (!values['ca-cert'] !== !values['ca-key']) fail('--ca-cert and --ca-key go together');
const days = values.days === undefined ? 365 : Number(values.days);
if (!Number.isInteger(days) || days < 1 || days > 825) fail('--days must be an integer from 1 to 825');
if (values.cn !== undefined && !/^[\w .@-]{1,64}$/.test(values.cn)) fail('--cn may hold letters, digits, space, . _ @ - (at most 64)');

const dist = join(repoRoot, 'dist', 'libs', 'crypto', 'src', 'pki', 'local-ca.js');
if (!existsSync(dist)) fail('dist/ is missing: run `npm run build` first');
const { issueClientCertificate } = require(dist);

const subject = values.subject ?? `CN=${values.cn}`;
const slug =
  (values.cn ?? /CN=([^,+]+)/i.exec(subject)?.[1] ?? 'client')
    .trim()
    .replace(/[^\w.-]+/g, '-')
    .slice(0, 64) || 'client';
const out = resolve(values.out);
const certFile = join(out, `${slug}.crt`);
const keyFile = join(out, `${slug}.key`);
if (!values.force && (existsSync(certFile) || existsSync(keyFile))) fail(`${certFile} or ${keyFile} exists; use --force to replace it`);

const ca = values['ca-cert']
  ? { certPem: readFileSync(resolve(values['ca-cert']), 'utf8'), keyPem: readFileSync(resolve(values['ca-key']), 'utf8') }
  : { dir: join(resolve(values['data-dir'] ?? process.env.KEYWARD_DATA ?? '.keyward'), 'tls') };

let issued;
try {
  issued = await issueClientCertificate({ subject, days, ca });
} catch (err) {
  console.error(`cert:issue: ${err.message}`);
  process.exit(1);
}
mkdirSync(out, { recursive: true, mode: 0o700 });
writeFileSync(keyFile, issued.keyPem, { mode: 0o600 });
writeFileSync(certFile, issued.certPem);

const summary = {
  cert: certFile,
  key: keyFile,
  subject: issued.subject,
  fingerprint: issued.fingerprint,
  notAfter: issued.notAfter.toISOString(),
  ca: 'dir' in ca ? join(ca.dir, 'ca.crt') : resolve(values['ca-cert']),
};
if (values.json) {
  console.log(JSON.stringify(summary));
} else {
  console.log(`certificate  ${summary.cert}
private key  ${summary.key} (0600)
subject      ${summary.subject}
valid until  ${summary.notAfter}
issued by    ${summary.ca}
fingerprint  ${summary.fingerprint}

Bind a principal to it (tenant-admin):
  curl ... -X PUT -d '{"fingerprint":"${summary.fingerprint}"}' https://<key-api>/v1/principals/<principal id>/certificate
Then call with:  curl --cert ${summary.cert} --key ${summary.key} ...`);
}
