// keyward enroll: a new principal receives its own API key. Whoever created it holds only a one-time
// enrollment token; the principal redeems it here. With a key pair made by `keygen` (its public key
// given when the principal was created), the API key comes back wrapped under that public key, so
// only the holder of the private key can open it.
import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { defineGroup, defineVerb, UsageError } from '@keyward/cli-kit';
import { apiVerb } from '../api/api-verb';
import { expectOk } from '../api/client';
import { anonymous } from '../api/connection';
import { show } from '../output';

export const summary = 'Enrollment: make a key pair, redeem a one-time enrollment token for your own API key, open a wrapped key';

function writePrivate(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

function fingerprint(publicKey: string): string {
  const der = createPublicKey(publicKey).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** Opens an API key wrapped with RSA-OAEP-SHA256 under our public key. */
function openWrapped(privateKeyFile: string, wrapped: string): string {
  const key = createPrivateKey(readFileSync(privateKeyFile));
  return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(wrapped, 'base64')).toString(
    'utf8',
  );
}

/** The sentence to print once the API key is had: the key itself, or where it was written. */
const delivered = (out: string | undefined, apiKey: string, what: string): string =>
  out ? `${what}; your API key is in ${out} (mode 0600).` : `${what}; your API key, shown once:\n  ${apiKey}`;

const outOption = {
  out: { type: 'string', value: 'FILE', description: 'write the API key to FILE (0600) instead of printing it' },
} as const;
const jsonOption = { json: { type: 'boolean', description: 'print JSON (for scripts)' } } as const;

interface Redeemed {
  readonly principalId: string;
  readonly tenantId: string;
  readonly role: string;
  readonly seq: number;
  readonly apiKey?: string;
  readonly wrappedApiKey?: string;
}

export const enroll = defineGroup({
  summary,
  commands: {
    keygen: defineVerb({
      summary: 'Make an RSA key pair: give the public key to whoever creates your principal, keep the private key',
      options: {
        out: {
          type: 'string',
          value: 'FILE',
          description: 'private key file (PEM, written 0600); the public key goes to FILE.pub (required)',
        },
        bits: { type: 'string', value: 'N', description: 'RSA modulus length: 2048, 3072 (default) or 4096' },
        ...jsonOption,
      },
      run({ values }, inv) {
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
        show(
          inv,
          values.json,
          result,
          (r) =>
            `Private key: ${r.privateKey} (keep it)\nPublic key:  ${r.publicKey} (give it to your administrator)\nFingerprint: ${r.fingerprint}`,
        );
      },
    }),
    redeem: apiVerb({
      summary: 'Redeem your one-time enrollment token for your API key (works once)',
      options: {
        token: { type: 'string', value: 'TOKEN', description: 'the enrollment token you were given (or KEYWARD_ENROLLMENT_TOKEN)' },
        'private-key': {
          type: 'string',
          value: 'FILE',
          description: 'your private key from "keygen", when you enrolled with its public key',
        },
        ...outOption,
      },
      apiKey: false,
      async run({ values, target, inv }) {
        const token = values.token ?? inv.io.env.KEYWARD_ENROLLMENT_TOKEN;
        if (!token) throw new UsageError('--token is required');
        const redeemed = await expectOk<Redeemed>(anonymous(target()), 'POST', '/v1/enroll', { body: { token } });
        let apiKey = redeemed.apiKey ?? '';
        if (redeemed.wrappedApiKey) {
          if (!values['private-key']) {
            show(
              inv,
              values.json,
              redeemed,
              (r) =>
                `Enrolled ${r.principalId}; your API key is wrapped under your public key:\n  ${r.wrappedApiKey ?? ''}\nOpen it with: keyward enroll open --private-key FILE --wrapped <that>`,
            );
            return;
          }
          apiKey = openWrapped(values['private-key'], redeemed.wrappedApiKey);
        }
        const what = `Enrolled ${redeemed.principalId} (${redeemed.role})`;
        const result = { principalId: redeemed.principalId, tenantId: redeemed.tenantId, role: redeemed.role, seq: redeemed.seq };
        if (values.out) writePrivate(values.out, `${apiKey}\n`);
        show(inv, values.json, values.out ? { ...result, out: values.out } : { ...result, apiKey }, () =>
          delivered(values.out, apiKey, what),
        );
      },
    }),
    open: defineVerb({
      summary: 'Open an API key that enrollment answered wrapped under your public key',
      options: {
        'private-key': { type: 'string', value: 'FILE', description: 'your private key from "keygen" (required)' },
        wrapped: { type: 'string', value: 'BASE64', description: 'the wrappedApiKey of the enrollment answer (required)' },
        ...outOption,
        ...jsonOption,
      },
      run({ values }, inv) {
        if (!values['private-key'] || !values.wrapped) throw new UsageError('--private-key and --wrapped are required');
        const apiKey = openWrapped(values['private-key'], values.wrapped);
        if (values.out) writePrivate(values.out, `${apiKey}\n`);
        show(inv, values.json, values.out ? { out: values.out } : { apiKey }, () => delivered(values.out, apiKey, 'Opened'));
      },
    }),
  },
});
