// keyward encrypt | decrypt | data-key | rewrap | mac | verify-mac: the data plane (key-user), over the SDK.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ExitCode, UsageError, type Command } from '@keyward/cli-kit';
import { EnvelopeEncryption, looksLikeEnvelope } from '@keyward/sdk';
import { apiVerb } from '../api/api-verb';
import { withClient } from '../api/sdk-client';
import { IO_OPTIONS, readAll, run, source, writeResult } from '../data/byte-io';
import { show } from '../output';

/** What key-api takes in one request (decoded bytes). */
const MAX_REQUEST_BYTES = 64 * 1024;
/** A Keyward ciphertext is at most a 64 KiB plaintext and its header; with base64 and a newline. */
const MAX_BLOB_INPUT_BYTES = 96 * 1024;

const KEY_OPTION = { key: { type: 'string', value: 'KEY', description: 'key id or alias/<name> (required)' } } as const;
const AAD_OPTION = {
  aad: { type: 'string', value: 'TEXT', description: 'additional authenticated data (UTF-8): needed again, the same, to decrypt' },
} as const;
const DIGEST_OPTION = {
  digest: { type: 'boolean', description: 'MAC the SHA-256 of the input (any size) instead of the input itself (at most 64 KiB)' },
} as const;

const required = (value: string | undefined, name: string): string => {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
};
const aadOf = (aad: string | undefined): Buffer | undefined => (aad === undefined ? undefined : Buffer.from(aad, 'utf8'));

/** A Keyward blob from a file or input: raw bytes ("kw…"), or its base64 text. */
function blobOf(bytes: Buffer, what: string): { blob: Buffer; base64: boolean } {
  if (bytes.subarray(0, 2).toString('latin1') === 'kw') return { blob: bytes, base64: false };
  const text = bytes.toString('latin1').trim();
  const blob = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || blob.subarray(0, 2).toString('latin1') !== 'kw')
    throw new UsageError(`${what} is not a Keyward ciphertext or MAC (raw or base64)`);
  return { blob, base64: true };
}

/** The data a MAC is over: the input itself (≤ 64 KiB) or, with --digest, its SHA-256. */
async function macData(input: ReturnType<typeof source>, digest: boolean | undefined): Promise<Buffer> {
  if (digest !== true)
    return readAll(
      input,
      MAX_REQUEST_BYTES,
      'the input is larger than 64 KiB, what key-api MACs at once: use --digest (on mac and verify-mac)',
    );
  const hash = createHash('sha256');
  for await (const chunk of input.stream as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest();
}

const ENVELOPE_DETAILS =
  'Any size, in constant memory: a data key per file (POST /v1/keys/{id}/data-key), the data sealed locally with AES-256-GCM in authenticated 64 KiB frames, the wrapped data key in the header (see docs/cli.md). Decrypting needs no key: it is named in the header.';

export const encrypt: Command = apiVerb({
  summary: 'Encrypt a file or standard input of any size (envelope encryption)',
  details: ENVELOPE_DETAILS,
  options: { ...KEY_OPTION, ...AAD_OPTION, ...IO_OPTIONS },
  async run({ values, target, inv }) {
    const key = required(values.key, 'key');
    const input = source(inv, values.in);
    const aad = aadOf(values.aad);
    await withClient(target(), (client) =>
      run(inv, input, values.out, 'encrypt', new EnvelopeEncryption(client, { key }).encryptStream(aad === undefined ? {} : { aad })),
    );
  },
});

export const decrypt: Command = apiVerb({
  summary: 'Decrypt what keyward encrypt wrote (altered, truncated or reordered input is refused)',
  details: `${ENVELOPE_DETAILS} Only authenticated frames are written; a truncated input fails at its end (exit 1) and --out is then not written.`,
  options: { ...AAD_OPTION, ...IO_OPTIONS },
  async run({ values, target, inv }) {
    const input = source(inv, values.in);
    const aad = aadOf(values.aad);
    await withClient(target(), (client) =>
      run(inv, input, values.out, 'decrypt', new EnvelopeEncryption(client).decryptStream(aad === undefined ? {} : { aad })),
    );
  },
});

export const dataKey: Command = apiVerb({
  summary: 'Generate a data key: its plaintext (use, then forget) and its ciphertext (store), base64',
  options: {
    ...KEY_OPTION,
    ...AAD_OPTION,
    bytes: { type: 'string', value: 'N', description: '16, 24 or 32 (default 32)' },
    'without-plaintext': { type: 'boolean', description: 'only the ciphertext (to hand to another service)' },
    out: { type: 'string', value: 'FILE', description: 'write the JSON answer to this file (mode 0600) instead of standard output' },
  },
  async run({ values, target, inv }) {
    const key = required(values.key, 'key');
    const bytes = values.bytes === undefined ? 32 : Number(values.bytes);
    if (bytes !== 16 && bytes !== 24 && bytes !== 32) throw new UsageError(`--bytes must be 16, 24 or 32, not "${values.bytes ?? ''}"`);
    const aad = aadOf(values.aad);
    const made = await withClient(target(), (client) =>
      client.generateDataKey(key, { bytes, ...(aad === undefined ? {} : { aad }), withoutPlaintext: values['without-plaintext'] === true }),
    );
    const answer = {
      keyId: made.keyId,
      version: made.version,
      ciphertext: made.ciphertext.toString('base64'),
      ...(made.plaintext === undefined ? {} : { plaintext: made.plaintext.toString('base64') }),
    };
    made.plaintext?.fill(0);
    if (values.out !== undefined) {
      await writeResult(inv, values.out, Buffer.from(`${JSON.stringify(answer)}\n`));
      return;
    }
    show(inv, values.json, answer, (a) =>
      [
        `key:        ${a.keyId} v${a.version}`,
        `ciphertext: ${a.ciphertext}`,
        ...(a.plaintext === undefined ? [] : [`plaintext:  ${a.plaintext}`]),
      ].join('\n'),
    );
  },
});

export const rewrap: Command = apiVerb({
  summary: "Re-encrypt under the key's latest version without decrypting: a keyward encrypt file, or a Keyward ciphertext",
  details:
    'A file of keyward encrypt gets its data key rewrapped (its frames are copied unchanged, any size). A Keyward ciphertext (raw, or base64 as the API answers it) is rewrapped by key-api and written back in the same form.',
  options: { ...AAD_OPTION, ...IO_OPTIONS },
  async run({ values, target, inv }) {
    const input = source(inv, values.in);
    const aad = aadOf(values.aad);
    const stream = input.stream as unknown as AsyncIterable<Buffer>;
    // Peek at the first bytes to tell an envelope file from a single ciphertext.
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    const head = first.done === true ? Buffer.alloc(0) : Buffer.from(first.value);
    const rest = async function* (): AsyncGenerator<Buffer> {
      if (head.length > 0) yield head;
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
    };
    const replay = { stream: Readable.from(rest()), size: input.size };
    await withClient(target(), async (client) => {
      if (head.length >= 3 && looksLikeEnvelope(head)) {
        await run(inv, replay, values.out, 'rewrap', new EnvelopeEncryption(client).rewrapStream(aad === undefined ? {} : { aad }));
        return;
      }
      const { blob, base64 } = blobOf(
        await readAll(replay, MAX_BLOB_INPUT_BYTES, 'the input is too large for a Keyward ciphertext'),
        'the input',
      );
      const { ciphertext } = await client.rewrap(blob, aad);
      await writeResult(inv, values.out, base64 ? Buffer.from(`${ciphertext.toString('base64')}\n`) : ciphertext);
    });
  },
});

export const mac: Command = apiVerb({
  summary: 'HMAC-SHA256 of a file or standard input with an HMAC key: the MAC, raw (or --base64)',
  options: {
    ...KEY_OPTION,
    ...DIGEST_OPTION,
    base64: { type: 'boolean', description: 'write the MAC as a base64 line' },
    ...IO_OPTIONS,
  },
  async run({ values, target, inv }) {
    const key = required(values.key, 'key');
    const data = await macData(source(inv, values.in), values.digest);
    const made = await withClient(target(), (client) => client.mac(key, data));
    await writeResult(inv, values.out, values.base64 === true ? Buffer.from(`${made.mac.toString('base64')}\n`) : made.mac);
  },
});

export const verifyMac: Command = apiVerb({
  summary: 'Check a MAC of a file or standard input: prints valid (exit 0) or invalid (exit 2)',
  options: {
    ...KEY_OPTION,
    mac: { type: 'string', value: 'FILE', description: 'the MAC, raw or base64, as keyward mac wrote it (required)' },
    ...DIGEST_OPTION,
    in: IO_OPTIONS.in,
  },
  async run({ values, target, inv }) {
    const key = required(values.key, 'key');
    const macFile = required(values.mac, 'mac');
    let macBytes: Buffer;
    try {
      macBytes = readFileSync(macFile);
    } catch (err: unknown) {
      throw new UsageError(`--mac ${macFile}: ${(err as Error).message}`);
    }
    const { blob } = blobOf(macBytes, `--mac ${macFile}`);
    const data = await macData(source(inv, values.in), values.digest);
    const valid = await withClient(target(), (client) => client.verifyMac(key, data, blob));
    show(inv, values.json, { valid }, (v) => (v.valid ? 'valid' : 'invalid'));
    if (!valid) inv.exitCode = ExitCode.CheckFailed;
  },
});
