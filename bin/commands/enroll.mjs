// keyward enroll: a new principal receives its own API key. Whoever created it holds only a one-time
// enrollment token; the principal redeems it here. With a key pair made by `keygen` (its public key
// given when the principal was created), the API key comes back wrapped under that public key, so
// only the holder of the private key can open it.
import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { expectOk, output, runGroup, UsageError } from './lib/cli.mjs';

export const summary = 'Enrollment: make a key pair, redeem a one-time enrollment token for your own API key, open a wrapped key';

function writePrivate(path, text) {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

function fingerprint(publicKey) {
  const der = createPublicKey(publicKey).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** Opens an API key wrapped with RSA-OAEP-SHA256 under our public key. */
function openWrapped(privateKeyFile, wrapped) {
  const key = createPrivateKey(readFileSync(privateKeyFile));
  return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(wrapped, 'base64')).toString(
    'utf8',
  );
}

/** Writes the API key to --out (0600) when asked; answers the sentence to print. */
function deliver(values, apiKey, what) {
  if (!values.out) return `${what}; your API key, shown once:\n  ${apiKey}`;
  return `${what}; your API key is in ${values.out} (mode 0600).`;
}

const verbs = {
  keygen: {
    summary: 'Make an RSA key pair: give the public key to whoever creates your principal, keep the private key',
    connection: false,
    options: {
      out: {
        type: 'string',
        value: 'FILE',
        description: 'private key file (PEM, written 0600); the public key goes to FILE.pub (required)',
      },
      bits: { type: 'string', value: 'N', description: 'RSA modulus length: 2048, 3072 (default) or 4096' },
      json: { type: 'boolean', description: 'print JSON (for scripts)' },
    },
    async run({ values }) {
      if (!values.out) throw new UsageError('--out is required');
      const bits = Number(values.bits ?? '3072');
      if (![2048, 3072, 4096].includes(bits)) throw new UsageError('--bits is 2048, 3072 or 4096');
      if (existsSync(values.out)) throw new UsageError(`${values.out} exists: not overwriting a private key`);
      const { publicKey, privateKey } = generateKeyPairSync('rsa', {
        modulusLength: bits,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
      writePrivate(values.out, privateKey);
      writeFileSync(`${values.out}.pub`, publicKey);
      const result = { privateKey: values.out, publicKey: `${values.out}.pub`, fingerprint: fingerprint(publicKey) };
      output(
        values,
        result,
        (r) =>
          `Private key: ${r.privateKey} (keep it)\nPublic key:  ${r.publicKey} (give it to your administrator)\nFingerprint: ${r.fingerprint}`,
      );
    },
  },
  redeem: {
    summary: 'Redeem your one-time enrollment token for your API key (works once)',
    options: {
      token: { type: 'string', value: 'TOKEN', description: 'the enrollment token you were given (or KEYWARD_ENROLLMENT_TOKEN)' },
      'private-key': {
        type: 'string',
        value: 'FILE',
        description: 'your private key from "keygen", when you enrolled with its public key',
      },
      out: { type: 'string', value: 'FILE', description: 'write the API key to FILE (0600) instead of printing it' },
    },
    connection: { apiKey: false },
    async run({ values, target }) {
      const token = values.token ?? process.env.KEYWARD_ENROLLMENT_TOKEN;
      if (!token) throw new UsageError('--token is required');
      const answer = await expectOk({ ...target(), apiKey: undefined }, 'POST', '/v1/enroll', { body: { token } });
      const redeemed = answer.json;
      let apiKey = redeemed.apiKey;
      if (redeemed.wrappedApiKey) {
        if (!values['private-key']) {
          output(
            values,
            redeemed,
            (r) =>
              `Enrolled ${r.principalId}; your API key is wrapped under your public key:\n  ${r.wrappedApiKey}\nOpen it with: keyward enroll open --private-key FILE --wrapped <that>`,
          );
          return;
        }
        apiKey = openWrapped(values['private-key'], redeemed.wrappedApiKey);
      }
      const what = `Enrolled ${redeemed.principalId} (${redeemed.role})`;
      const result = { principalId: redeemed.principalId, tenantId: redeemed.tenantId, role: redeemed.role, seq: redeemed.seq };
      if (values.out) writePrivate(values.out, `${apiKey}\n`);
      output(values, values.out ? { ...result, out: values.out } : { ...result, apiKey }, () => deliver(values, apiKey, what));
    },
  },
  open: {
    summary: 'Open an API key that enrollment answered wrapped under your public key',
    connection: false,
    options: {
      'private-key': { type: 'string', value: 'FILE', description: 'your private key from "keygen" (required)' },
      wrapped: { type: 'string', value: 'BASE64', description: 'the wrappedApiKey of the enrollment answer (required)' },
      out: { type: 'string', value: 'FILE', description: 'write the API key to FILE (0600) instead of printing it' },
      json: { type: 'boolean', description: 'print JSON (for scripts)' },
    },
    async run({ values }) {
      if (!values['private-key'] || !values.wrapped) throw new UsageError('--private-key and --wrapped are required');
      const apiKey = openWrapped(values['private-key'], values.wrapped);
      if (values.out) writePrivate(values.out, `${apiKey}\n`);
      output(values, values.out ? { out: values.out } : { apiKey }, () => deliver(values, apiKey, 'Opened'));
    },
  },
};

export const run = (args) => runGroup('enroll', summary, verbs, args);
