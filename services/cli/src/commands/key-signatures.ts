// keyward keys sign|verify|public-key: the asymmetric-key verbs (key-users; public keys also auditors).
import { readFileSync, writeFileSync } from 'node:fs';
import { ExitCode, UsageError, wholeNumber, type OptionSpecs, type ValuesOf } from '@keyward/cli-kit';
import { apiVerb } from '../api/api-verb';
import { expectOk, segment } from '../api/client';
import { show } from '../output';

const ALGORITHMS = 'RSA-PSS-SHA256|384|512, RSA-PKCS1-SHA256|384|512 (RSA keys), ECDSA-SHA256 (EC-P256), ECDSA-SHA384 (EC-P384), ED25519';
const DETAILS =
  'KEY is a key id or alias/<name>. The message comes from --in FILE or --message TEXT; --digest HEX signs a digest (RSA-PKCS1-* only).';

const INPUT_OPTIONS = {
  algorithm: { type: 'string', value: 'ALG', description: ALGORITHMS },
  in: { type: 'string', value: 'FILE', description: 'the message, read from a file (up to 64 KiB)' },
  message: { type: 'string', value: 'TEXT', description: 'the message, as UTF-8 text' },
  digest: { type: 'string', value: 'HEX', description: "the message's digest, hex (RSA-PKCS1-* only)" },
  format: { type: 'string', value: 'FORMAT', description: 'ECDSA signature encoding: der (default) or ieee-p1363' },
} as const satisfies OptionSpecs;

interface Signed {
  readonly signature: string;
  readonly keyId: string;
  readonly version: number;
}
interface Verified {
  readonly valid: boolean;
  readonly keyId: string;
  readonly version: number;
}
interface PublicKey {
  readonly keyId: string;
  readonly version: number;
  readonly keyType: string;
  readonly kcv: string;
  readonly pem: string;
  readonly jwk: Readonly<Record<string, unknown>>;
}

/** The body fields every sign and verify takes: exactly one input, the algorithm, the ECDSA format. */
function signedBody(values: ValuesOf<typeof INPUT_OPTIONS>): Record<string, string> {
  if (!values.algorithm) throw new UsageError(`--algorithm is required (${ALGORITHMS})`);
  const given = [values.in, values.message, values.digest].filter((v) => v !== undefined);
  if (given.length !== 1) throw new UsageError('give exactly one of --in, --message and --digest');
  if (values.format !== undefined && values.format !== 'der' && values.format !== 'ieee-p1363') {
    throw new UsageError('--format is der or ieee-p1363');
  }
  if (values.digest !== undefined && !/^(?:[0-9a-fA-F]{2})+$/.test(values.digest)) throw new UsageError('--digest takes hex');
  const input: Record<string, string> =
    values.digest !== undefined
      ? { digest: Buffer.from(values.digest, 'hex').toString('base64') }
      : { message: (values.in !== undefined ? readFileSync(values.in) : Buffer.from(values.message ?? '', 'utf8')).toString('base64') };
  return { ...input, algorithm: values.algorithm, ...(values.format ? { signatureFormat: values.format } : {}) };
}

export const signatureVerbs = {
  sign: apiVerb({
    summary: 'Sign a message with the latest version of an Active asymmetric key (key-user)',
    args: '<key>',
    details: DETAILS,
    options: { ...INPUT_OPTIONS, out: { type: 'string', value: 'FILE', description: 'also write the raw signature bytes here' } },
    async run({ values, positionals, target, inv }) {
      const answer = await expectOk<Signed>(target(), 'POST', `/v1/keys/${segment(positionals[0] ?? '')}/sign`, {
        body: signedBody(values),
      });
      if (values.out !== undefined) writeFileSync(values.out, Buffer.from(answer.signature, 'base64'), { flag: 'wx' });
      show(inv, values.json, answer, (s) => `${s.signature}\n(signed with ${s.keyId} version ${s.version})`);
    },
  }),
  verify: apiVerb({
    summary: 'Verify a signature with a version of an asymmetric key (key-user); exit code 2 when it does not verify',
    args: '<key>',
    details: `${DETAILS} The signature is --signature BASE64 or --signature-file FILE (raw bytes).`,
    options: {
      ...INPUT_OPTIONS,
      signature: { type: 'string', value: 'BASE64', description: 'the signature, base64' },
      'signature-file': { type: 'string', value: 'FILE', description: 'the signature, raw bytes from a file' },
      version: { type: 'string', value: 'N', description: 'the key version that signed (default the latest)' },
    },
    async run({ values, positionals, target, inv }) {
      if ((values.signature === undefined) === (values['signature-file'] === undefined)) {
        throw new UsageError('give exactly one of --signature and --signature-file');
      }
      const signature = values.signature ?? readFileSync(values['signature-file'] ?? '').toString('base64');
      const body = {
        ...signedBody(values),
        signature,
        ...(values.version === undefined ? {} : { version: wholeNumber('version', values.version, { min: 1 }) }),
      };
      const answer = await expectOk<Verified>(target(), 'POST', `/v1/keys/${segment(positionals[0] ?? '')}/verify`, { body });
      if (!answer.valid) inv.exitCode = ExitCode.CheckFailed;
      show(inv, values.json, answer, (v) => `${v.valid ? 'valid' : 'INVALID'}: signature of ${v.keyId} version ${v.version}`);
    },
  }),
  'public-key': apiVerb({
    summary: 'Print the public key of an asymmetric key version as PEM (--jwk: as JWK) (key-user, auditor)',
    args: '<key>',
    details: 'KEY is a key id or alias/<name>.',
    options: {
      version: { type: 'string', value: 'N', description: 'the key version (default the latest)' },
      jwk: { type: 'boolean', description: 'print the JWK instead of the PEM' },
    },
    async run({ values, positionals, target, inv }) {
      const version = values.version === undefined ? '' : `?version=${wholeNumber('version', values.version, { min: 1 })}`;
      const answer = await expectOk<PublicKey>(target(), 'GET', `/v1/keys/${segment(positionals[0] ?? '')}/public-key${version}`);
      show(inv, values.json, answer, (k) => (values.jwk ? JSON.stringify(k.jwk) : k.pem.trimEnd()));
    },
  }),
};
