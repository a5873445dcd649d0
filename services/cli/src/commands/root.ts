// keyward root: the root key verbs. Split a root key into Shamir shares for custodians, submit
// shares to a sealed key-api, show the seal status.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineGroup, defineVerb, UsageError, wholeNumber, type Invocation } from '@keyward/cli-kit';
import { checkSplitOptions, decodeShare, parseRootKey, splitRootKey, type SplitRootKey } from '@keyward/crypto';
import { call, refused } from '../api/client';
import { anonymous, CONNECTION_OPTIONS, connection } from '../api/connection';
import { ROOT_SUMMARY } from './summaries';

interface SealStatus {
  readonly sealed: boolean;
  readonly reason?: string;
  readonly rootKcv?: string;
  readonly duplicate?: boolean;
  readonly progress?: {
    readonly submitted: number;
    readonly threshold: number;
    readonly setId: string;
    readonly rootKcv: string;
    readonly shares: number;
    readonly expiresAt: string;
  };
}

function describeStatus(status: SealStatus): string {
  if (!status.sealed) return `Unsealed${status.rootKcv ? ` (root key ${status.rootKcv})` : ''}.`;
  const lines = [`Sealed: ${status.reason ?? 'no root key'}.`];
  const p = status.progress;
  if (p) {
    const more = p.threshold - p.submitted;
    lines.push(
      `Unseal progress: ${p.submitted} of ${p.threshold} shares (set ${p.setId} of root key ${p.rootKcv}, ${p.shares} shares);` +
        ` ${more} more needed before ${p.expiresAt}.`,
    );
  } else {
    lines.push('No share submitted yet.');
  }
  return lines.join('\n');
}

function writeShares(dir: string, split: SplitRootKey): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = split.shares.map((_, i) => join(dir, `share-${i + 1}-of-${split.shares.length}.txt`));
  const taken = files.filter((file) => existsSync(file));
  if (taken.length > 0)
    throw new Error(`${taken.join(', ')} already exist: choose another --out-dir (shares of another set are never overwritten)`);
  split.shares.forEach((share, i) => {
    writeFileSync(files[i] ?? '', `${share}\n`, { mode: 0o600, flag: 'wx' });
  });
  return files;
}

async function readShareFromStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Paste your share, then press Enter: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    if (process.stdin.isTTY && chunk.includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

const jsonOption = { json: { type: 'boolean', description: 'print a JSON summary instead of text' } } as const;

const init = defineVerb({
  summary: 'Generate a root key and split it into Shamir shares for custodians',
  details: `Generates a new 256-bit root key, splits it into N Shamir shares of which any M unseal Keyward,
and prints the shares (one per custodian) and the root key check value. The root key itself is
never printed nor written anywhere: only the shares can bring it back.

Then start key-api without ROOT_KEY or ROOT_KEY_FILE (and ROOT_KEY_GENERATE=off outside production):
it starts sealed, and M custodians unseal it with "keyward root unseal". The first unseal of a new
deployment records the root key's check value in the keystore; later unseals must match it.`,
  options: {
    shares: { type: 'string', value: 'N', description: 'number of shares, one per custodian (2 to 255)' },
    threshold: { type: 'string', value: 'M', description: 'shares needed to unseal (2 to N)' },
    'out-dir': {
      type: 'string',
      value: 'DIR',
      description: 'write each share to DIR/share-<i>-of-<N>.txt (mode 0600) instead of printing it',
    },
    'key-file': {
      type: 'string',
      value: 'FILE',
      description:
        'split this existing root key (32 raw bytes or base64, as ROOT_KEY_FILE) instead of generating one: to move a running deployment to custodian shares',
    },
    ...jsonOption,
  },
  async run({ values }, inv) {
    const shares = wholeNumber('shares', values.shares);
    const threshold = wholeNumber('threshold', values.threshold);
    try {
      checkSplitOptions(shares, threshold);
    } catch (err: unknown) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    const keyFile = values['key-file'];
    let key: Buffer;
    if (keyFile !== undefined) {
      const parsed = parseRootKey(readFileSync(keyFile));
      if (parsed === null) throw new Error(`${keyFile} does not hold a 32-byte root key (raw or base64)`);
      key = parsed;
    } else {
      key = randomBytes(32);
    }
    let split: SplitRootKey;
    try {
      split = await splitRootKey(key, { shares, threshold });
    } finally {
      key.fill(0);
    }
    const files = values['out-dir'] === undefined ? undefined : writeShares(resolve(values['out-dir']), split);
    if (values.json) {
      const summary = { rootKcv: split.kcv, setId: split.setId, threshold, shares };
      inv.print(JSON.stringify(files ? { ...summary, files } : { ...summary, shareTexts: split.shares }));
      return;
    }
    const origin = keyFile === undefined ? 'Generated a new root key' : `Read the root key from ${keyFile}`;
    const lines = [
      `${origin} and split it into ${shares} shares; any ${threshold} of them unseal Keyward.`,
      `Root key check value: ${split.kcv}  (key-api shows it in GET /v1/sys/seal-status)`,
      `Share set:            ${split.setId}`,
      '',
    ];
    if (files) {
      lines.push(...files.map((file, i) => `Share ${i + 1} of ${shares}: ${file}`));
    } else {
      lines.push(...split.shares.flatMap((share, i) => [`Share ${i + 1} of ${shares}:`, `  ${share}`, '']));
    }
    lines.push(
      ...(files ? [''] : []),
      'The root key itself was not written anywhere. Give each share to a different custodian, over a',
      `separate channel, and ${files ? 'delete the files once handed over' : 'clear this terminal'}: any ${threshold} shares rebuild the root key, and`,
      `${threshold - 1} reveal nothing about it. Unseal a sealed key-api with "keyward root unseal" (see --help).`,
    );
    inv.print(lines.join('\n'));
  },
});

const printStatus = (inv: Invocation, json: boolean | undefined, status: SealStatus, text: string): void => {
  inv.print(json ? JSON.stringify(status) : text);
};

const unseal = defineVerb({
  summary: 'Submit one custodian share to a sealed key-api (prints the progress)',
  details: `Submits one custodian share to a sealed key-api (POST /v1/sys/unseal/shares) and prints the
progress; the key-api unseals itself when the threshold is reached. Shares are held in the
key-api's memory only, for at most 10 minutes from the first one. The share is checked here first,
so a mistyped one is refused before it is sent. --reset discards the shares submitted so far.`,
  options: {
    ...CONNECTION_OPTIONS,
    'api-key': { type: 'string', value: 'KEY', description: 'a provider-admin API key (or KEYWARD_API_KEY)' },
    share: {
      type: 'string',
      value: 'SHARE',
      description:
        'the share (kwshare-1-...); "-" or leaving it out reads it from standard input, which keeps it out of the shell history and the process list',
    },
    reset: { type: 'boolean', description: 'discard the shares submitted so far (DELETE /v1/sys/unseal/shares)' },
  },
  async run({ values }, inv) {
    const target = connection(values, inv.io.env, { apiKey: false });
    if (target.apiKey === undefined) throw new UsageError('--api-key is required (a provider-admin API key; or set KEYWARD_API_KEY)');
    if (values.reset) {
      if (values.share !== undefined) throw new UsageError('--reset takes no --share');
      const answer = await call(target, 'DELETE', '/v1/sys/unseal/shares');
      if (answer.status !== 200) throw refused(answer);
      const status = answer.json as SealStatus;
      printStatus(inv, values.json, status, `Shares discarded.\n${describeStatus(status)}`);
      return;
    }
    const text = values.share === undefined || values.share === '-' ? await readShareFromStdin() : values.share;
    let index: number;
    try {
      const share = decodeShare(text); // a mistyped share is refused before anything is sent
      share.data.fill(0);
      index = share.index;
    } catch (err: unknown) {
      throw new Error(`this share is refused: ${err instanceof Error ? err.message : String(err)}`);
    }
    const answer = await call(target, 'POST', '/v1/sys/unseal/shares', { body: { share: text.replace(/\s+/g, '') } });
    if (answer.status !== 200) throw refused(answer);
    const status = answer.json as SealStatus;
    const p = status.progress;
    if (!status.sealed || p === undefined) {
      printStatus(
        inv,
        values.json,
        status,
        `Share ${index} accepted: threshold reached. Unsealed (root key ${String(status.rootKcv)}, checked against the keystore).`,
      );
      return;
    }
    const what = status.duplicate ? `Share ${index} had already been submitted (it counts once)` : `Share ${index} accepted`;
    printStatus(
      inv,
      values.json,
      status,
      `${what}: ${p.submitted} of ${p.threshold} submitted; ${p.threshold - p.submitted} more needed before ${p.expiresAt}. Still sealed.`,
    );
  },
});

const status = defineVerb({
  summary: 'Show whether a key-api is sealed, and the unseal progress',
  details: 'Shows whether a key-api is sealed and, while custodians unseal it, how many shares it holds.',
  options: (({ 'api-key': _apiKey, ...options }) => options)(CONNECTION_OPTIONS),
  async run({ values }, inv) {
    const answer = await call(anonymous(connection(values, inv.io.env, { apiKey: false })), 'GET', '/v1/sys/seal-status');
    if (answer.status !== 200) throw refused(answer);
    const sealStatus = answer.json as SealStatus;
    printStatus(inv, values.json, sealStatus, describeStatus(sealStatus));
  },
});

export const root = defineGroup({ summary: ROOT_SUMMARY, commands: { init, unseal, status } });
