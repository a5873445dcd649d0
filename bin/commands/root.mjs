// keyward root: the root key verbs (issue 6). Split a root key into Shamir shares for custodians,
// submit shares to a sealed key-api, show the seal status.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { call, connection, loadDist, parse, refused, UsageError } from './lib/cli.mjs';

const distShamir = 'libs/crypto/src/shamir/index.js';
const distRootKey = 'libs/crypto/src/root-key/root-key-source.js';

export const summary = 'Root key: split it into Shamir shares, unseal a sealed key-api, show the seal status';

const HELP = {
  root: `Usage: keyward root <init|unseal|status> [options]

  init     Generate a root key and split it into Shamir shares for custodians
  unseal   Submit one custodian share to a sealed key-api (prints the progress)
  status   Show whether a key-api is sealed, and the unseal progress`,
  init: `Usage: keyward root init --shares N --threshold M [--out-dir DIR] [--key-file FILE] [--json]

Generates a new 256-bit root key, splits it into N Shamir shares of which any M unseal Keyward,
and prints the shares (one per custodian) and the root key check value. The root key itself is
never printed nor written anywhere: only the shares can bring it back.

Options:
  --shares N        number of shares, one per custodian (2 to 255)
  --threshold M     shares needed to unseal (2 to N)
  --out-dir DIR     write each share to DIR/share-<i>-of-<N>.txt (mode 0600) instead of printing it
  --key-file FILE   split this existing root key (32 raw bytes or base64, as ROOT_KEY_FILE) instead of
                    generating one: to move a running deployment to custodian shares
  --json            print a JSON summary instead of text

Then start key-api without ROOT_KEY or ROOT_KEY_FILE (and ROOT_KEY_GENERATE=off outside production):
it starts sealed, and M custodians unseal it with "keyward root unseal". The first unseal of a new
deployment records the root key's check value in the keystore; later unseals must match it.`,
  unseal: `Usage: keyward root unseal --url URL --api-key KEY [--ca FILE] [--share SHARE | --share -] [--json]
       keyward root unseal --url URL --api-key KEY [--ca FILE] --reset

Submits one custodian share to a sealed key-api (POST /v1/sys/unseal/shares) and prints the
progress; the key-api unseals itself when the threshold is reached. Shares are held in the
key-api's memory only, for at most 10 minutes from the first one. The share is checked here first,
so a mistyped one is refused before it is sent.

Options:
  --url URL        key-api base URL, e.g. https://127.0.0.1:8443 (or KEYWARD_URL)
  --api-key KEY    a provider-admin API key (or KEYWARD_API_KEY)
  --ca FILE        CA certificate to trust for https, e.g. .keyward/tls/ca.crt (or KEYWARD_CA)
  --share SHARE    the share (kwshare-1-...); "-" or leaving it out reads it from standard input,
                   which keeps it out of the shell history and the process list
  --reset          discard the shares submitted so far (DELETE /v1/sys/unseal/shares)
  --json           print the key-api's JSON answer`,
  status: `Usage: keyward root status --url URL [--ca FILE] [--json]

Shows whether a key-api is sealed and, while custodians unseal it, how many shares it holds.

Options:
  --url URL    key-api base URL (or KEYWARD_URL)
  --ca FILE    CA certificate to trust for https (or KEYWARD_CA)
  --json       print the key-api's JSON answer`,
};

function wholeNumber(name, text) {
  if (text === undefined) throw new UsageError(`--${name} is required`);
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`--${name} must be a whole number, not "${text}"`);
  return Number(text);
}

async function rootInit(args) {
  const { values } = parse(args, {
    shares: { type: 'string' },
    threshold: { type: 'string' },
    'out-dir': { type: 'string' },
    'key-file': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return console.log(HELP.init);
  const shares = wholeNumber('shares', values.shares);
  const threshold = wholeNumber('threshold', values.threshold);
  const { checkSplitOptions, splitRootKey } = loadDist(distShamir);
  try {
    checkSplitOptions(shares, threshold);
  } catch (err) {
    throw new UsageError(err.message);
  }
  let key;
  if (values['key-file'] !== undefined) {
    const { parseRootKey } = loadDist(distRootKey);
    key = parseRootKey(readFileSync(values['key-file']));
    if (key === null) throw new Error(`${values['key-file']} does not hold a 32-byte root key (raw or base64)`);
  } else {
    key = randomBytes(32);
  }
  let split;
  try {
    split = await splitRootKey(key, { shares, threshold });
  } finally {
    key.fill(0);
  }
  const files = values['out-dir'] === undefined ? undefined : writeShares(resolve(values['out-dir']), split);
  if (values.json) {
    const summary = { rootKcv: split.kcv, setId: split.setId, threshold, shares };
    console.log(JSON.stringify(files ? { ...summary, files } : { ...summary, shareTexts: split.shares }));
    return;
  }
  const origin = values['key-file'] === undefined ? 'Generated a new root key' : `Read the root key from ${values['key-file']}`;
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
  console.log(lines.join('\n'));
}

function writeShares(dir, split) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = split.shares.map((_, i) => join(dir, `share-${i + 1}-of-${split.shares.length}.txt`));
  const taken = files.filter((file) => existsSync(file));
  if (taken.length > 0)
    throw new Error(`${taken.join(', ')} already exist: choose another --out-dir (shares of another set are never overwritten)`);
  split.shares.forEach((share, i) => writeFileSync(files[i], `${share}\n`, { mode: 0o600, flag: 'wx' }));
  return files;
}

function describeStatus(status) {
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

async function readShareFromStdin() {
  if (process.stdin.isTTY) process.stderr.write('Paste your share, then press Enter: ');
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
    if (process.stdin.isTTY && chunk.includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function rootUnseal(args) {
  const { values } = parse(args, {
    url: { type: 'string' },
    'api-key': { type: 'string' },
    ca: { type: 'string' },
    share: { type: 'string' },
    reset: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (values.help) return console.log(HELP.unseal);
  const apiKey = values['api-key'] ?? process.env.KEYWARD_API_KEY;
  const target = { ...connection(values, { apiKey: false }), apiKey };
  if (!apiKey) throw new UsageError('--api-key is required (a provider-admin API key; or set KEYWARD_API_KEY)');
  if (values.reset) {
    if (values.share !== undefined) throw new UsageError('--reset takes no --share');
    const answer = await call(target, 'DELETE', '/v1/sys/unseal/shares');
    if (answer.status !== 200) throw refused(answer);
    console.log(values.json ? JSON.stringify(answer.json) : `Shares discarded.\n${describeStatus(answer.json)}`);
    return;
  }
  const text = values.share === undefined || values.share === '-' ? await readShareFromStdin() : values.share;
  const { decodeShare } = loadDist(distShamir);
  let share;
  try {
    share = decodeShare(text); // a mistyped share is refused before anything is sent
  } catch (err) {
    throw new Error(`this share is refused: ${err.message}`);
  }
  share.data.fill(0);
  const answer = await call(target, 'POST', '/v1/sys/unseal/shares', { body: { share: text.replace(/\s+/g, '') } });
  if (answer.status !== 200) throw refused(answer);
  const status = answer.json;
  if (values.json) return console.log(JSON.stringify(status));
  if (!status.sealed) {
    console.log(`Share ${share.index} accepted: threshold reached. Unsealed (root key ${status.rootKcv}, checked against the keystore).`);
    return;
  }
  const p = status.progress;
  const what = status.duplicate ? `Share ${share.index} had already been submitted (it counts once)` : `Share ${share.index} accepted`;
  console.log(
    `${what}: ${p.submitted} of ${p.threshold} submitted; ${p.threshold - p.submitted} more needed before ${p.expiresAt}. Still sealed.`,
  );
}

async function rootStatus(args) {
  const { values } = parse(args, { url: { type: 'string' }, ca: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) return console.log(HELP.status);
  const answer = await call({ ...connection(values, { apiKey: false }), apiKey: undefined }, 'GET', '/v1/sys/seal-status');
  if (answer.status !== 200) throw refused(answer);
  console.log(values.json ? JSON.stringify(answer.json) : describeStatus(answer.json));
}

export async function run(args) {
  const [verb, ...rest] = args;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') return console.log(HELP.root);
  const verbs = { init: rootInit, unseal: rootUnseal, status: rootStatus };
  const verbRun = verbs[verb];
  if (!verbRun) throw new UsageError(`unknown command "root ${verb}"`);
  return verbRun(rest);
}
