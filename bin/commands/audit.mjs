// keyward audit: compliance over the commit log. Events, chain verification (against Kafka and
// signed checkpoints), the state at an instant, exports (JSON Lines, CSV, HTML report), checkpoints, usage.
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  EX_CHECK_FAILED,
  expectOk,
  loadDist,
  output,
  pages,
  progressBar,
  query,
  refused,
  runGroup,
  stream,
  table,
  UsageError,
  wholeNumber,
} from './lib/cli.mjs';

export const summary = 'Compliance: events, verify, state at an instant, export (JSON Lines, CSV, HTML), checkpoints, usage';

const signatures = () => loadDist('libs/event-log/src/audit/checkpoint-signature.js');

const tenantOption = {
  tenant: { type: 'string', value: 'TENANT', description: 'provider-admins: the tenant to audit (default: the provider log)' },
};
const filterOptions = {
  from: { type: 'string', value: 'ISO', description: 'earliest event time (inclusive)' },
  to: { type: 'string', value: 'ISO', description: 'latest event time (inclusive)' },
  'from-seq': { type: 'string', value: 'SEQ', description: 'first commit seq (inclusive)' },
  'to-seq': { type: 'string', value: 'SEQ', description: 'last commit seq (inclusive)' },
  key: { type: 'string', value: 'KEY', description: 'events about this key id (approvals of it included)' },
  type: { type: 'string', value: 'TYPE', description: 'an event type or a dotted prefix (key, key.rotated, key.rotated.v1)' },
  ...tenantOption,
};
const filterParams = (v) => ({
  tenantId: v.tenant,
  from: v.from,
  to: v.to,
  fromSeq: v['from-seq'],
  toSeq: v['to-seq'],
  keyId: v.key,
  type: v.type,
});

const eventColumns = [
  ['seq', (e) => `${e.seq}.${e.index}`],
  ['at', (e) => e.at],
  ['type', (e) => e.type],
  ['actor', (e) => `${e.actor.principalId} (${e.actor.role})`],
  ['key', (e) => (typeof e.data.keyId === 'string' ? e.data.keyId : typeof e.data.command?.keyId === 'string' ? e.data.command.keyId : '')],
];

function describeVerify(r) {
  const lines = r.ok
    ? [
        `OK: the history of ${r.tenantId} verifies from ${r.fromSeq === 1 ? 'the genesis hash' : `the checkpoint at seq ${r.fromSeq}`} through seq ${r.verifiedThroughSeq} (head ${r.headSeq}, hash ${r.headHash}).`,
      ]
    : [
        `FAILED: the history of ${r.tenantId} does not verify.`,
        `first bad seq:  ${r.firstBadSeq} (${r.problem})`,
        `what is wrong:  ${r.detail}`,
        `verified:       seq ${r.fromSeq} through ${r.verifiedThroughSeq} of ${r.headSeq}`,
        ...(r.problems?.length > 1 ? ['all checks:', ...r.problems.map((p) => `  seq ${p.seq}: ${p.problem} — ${p.detail}`)] : []),
      ];
  lines.push(
    `kafka:          ${r.kafka.messages} message(s) on ${r.kafka.topic}; published through seq ${r.kafka.publishedThroughSeq}`,
    `checkpoints:    ${r.checkpoints.checked} signed checkpoint(s) checked`,
  );
  return lines.join('\n');
}

/** Reads a checkpoint file (one checkpoint as `audit checkpoints --save` or `--json` writes it). */
function readCheckpoint(file) {
  let checkpoint;
  try {
    checkpoint = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not a checkpoint (JSON): ${err.message}`);
  }
  if (Array.isArray(checkpoint?.items)) checkpoint = checkpoint.items[0];
  if (typeof checkpoint?.seq !== 'number' || typeof checkpoint?.hash !== 'string' || typeof checkpoint?.signature !== 'string') {
    throw new Error(`${file} is not a signed checkpoint (seq, hash, signature)`);
  }
  return checkpoint;
}

/** The public key (PEM) to check a checkpoint with: the pinned file, or the one key-api publishes for its keyId. */
async function checkpointKey(t, checkpoint, pinned) {
  if (pinned) return readFileSync(pinned, 'utf8');
  const published = (await expectOk({ ...t, apiKey: undefined }, 'GET', '/v1/audit/public-key')).json;
  const key = published.keys.find((k) => k.keyId === checkpoint.keyId);
  if (!key) throw new Error(`key-api publishes no key ${checkpoint.keyId}: the checkpoint cannot be checked`);
  return key.pem;
}

function describeState(s) {
  const lines = [
    `${s.tenantId} at ${s.at}: seq ${s.seq}${s.committedAt ? ` (committed ${s.committedAt})` : ''}, hash ${s.hash}`,
    s.tenant ? `tenant: ${s.tenant.name}, ${s.tenant.status}` : 'tenant: did not exist yet',
    '',
    `keys (${s.keys.length}):`,
    table(s.keys, [
      ['key', (k) => k.keyId],
      ['alias', (k) => k.alias ?? ''],
      ['type', (k) => k.keyType],
      ['state', (k) => k.state],
      ['version', (k) => k.latestVersion],
      ['updated', (k) => k.updatedAt],
    ]),
    '',
    `principals (${s.principals.length}):`,
    table(s.principals, [
      ['principal', (p) => p.principalId],
      ['name', (p) => p.name],
      ['role', (p) => p.role],
      ['revoked', (p) => p.revokedAt ?? ''],
    ]),
  ];
  return lines.join('\n');
}

/** Counts records going by (and the last commit seq seen) for the progress bar, without changing the bytes. */
function recordCounter(format, onProgress) {
  let partial = '';
  let records = 0;
  let bytes = 0;
  let lastSeq = 0;
  let header = format === 'csv';
  const counter = new Transform({
    transform(chunk, _encoding, done) {
      bytes += chunk.length;
      if (format !== 'html') {
        const text = partial + chunk.toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (header) {
            header = false;
            continue;
          }
          // jsonl: {"tenantId":...,"seq":N,...}; csv: tenantId,seq,... (a quoted field may span lines: only count lines that start a record)
          const match =
            format === 'jsonl'
              ? /"seq":(\d+)/.exec(line)
              : (/^[a-z][a-z0-9]*_[A-Za-z0-9]+,(\d+),\d+,/.exec(line) ?? /^provider,(\d+),\d+,/.exec(line));
          if (match) {
            records += 1;
            lastSeq = Number(match[1]);
          }
        }
      }
      onProgress({ records, bytes, lastSeq });
      done(null, chunk);
    },
  });
  counter.summary = () => ({ records, bytes, lastSeq });
  return counter;
}

const verbs = {
  events: {
    summary: 'Events of the commit log, in order, one per line (filters combine)',
    options: {
      ...filterOptions,
      limit: { type: 'string', value: 'N', description: 'events per page (1-1000, default 100)' },
      cursor: { type: 'string', value: 'CURSOR', description: 'nextCursor of a previous page' },
      all: { type: 'boolean', description: 'follow every page' },
    },
    async run({ values, target }) {
      const page = await pages(
        target(),
        '/v1/audit/events',
        { ...filterParams(values), limit: values.limit, cursor: values.cursor },
        values.all,
      );
      output(values, page, (p) => `${table(p.items, eventColumns)}${p.nextCursor ? `\n(more: --cursor ${p.nextCursor}, or --all)` : ''}`);
    },
  },
  verify: {
    summary: "Verify the tenant's history: the hash chain, no missing seq, Kafka and the signed checkpoints agree",
    details:
      'Exit code 0 when it verifies, 2 when it does not (the first bad seq is printed). With a checkpoint you kept\n' +
      '(--checkpoint FILE, or --since SEQ --hash HASH), proves that the history up to it is unchanged and has only\n' +
      "been appended to since; the checkpoint's signature is checked first (with --public-key, or the key key-api publishes).",
    options: {
      since: { type: 'string', value: 'SEQ', description: 'seq of a checkpoint you hold' },
      hash: { type: 'string', value: 'HASH', description: 'its hash' },
      checkpoint: { type: 'string', value: 'FILE', description: 'a checkpoint saved with "audit checkpoints --save"' },
      'public-key': { type: 'string', value: 'FILE', description: 'the checkpoint public key you pinned (PEM)' },
      ...tenantOption,
    },
    async run({ values, target }) {
      const t = target();
      let since = values.since === undefined ? undefined : wholeNumber('since', values.since, { min: 1 });
      let hash = values.hash;
      if ((since === undefined) !== (hash === undefined)) throw new UsageError('--since and --hash go together');
      let checkpointNote;
      if (values.checkpoint) {
        if (since !== undefined) throw new UsageError('give --checkpoint or --since/--hash, not both');
        const checkpoint = readCheckpoint(values.checkpoint);
        const pem = await checkpointKey(t, checkpoint, values['public-key']);
        if (!signatures().verifyCheckpoint(checkpoint, pem)) {
          throw new Error(
            `the signature of ${values.checkpoint} does not verify${values['public-key'] ? ` with ${values['public-key']}` : ''}: it is not a checkpoint Keyward signed`,
          );
        }
        ({ seq: since, hash } = checkpoint);
        checkpointNote = `checkpoint signature: valid (key ${checkpoint.keyId}, signed ${checkpoint.at})`;
      }
      const answer = await expectOk(t, 'GET', `/v1/audit/verify${query({ tenantId: values.tenant, since, hash })}`);
      output(values, answer.json, (r) => (checkpointNote ? `${checkpointNote}\n${describeVerify(r)}` : describeVerify(r)));
      if (!answer.json.ok) process.exitCode = EX_CHECK_FAILED;
    },
  },
  state: {
    summary: 'The tenant, its keys and principals as they were at an instant (rebuilt from the log)',
    options: { at: { type: 'string', value: 'ISO', description: 'the instant, e.g. 2026-03-01T00:00:00Z (required)' }, ...tenantOption },
    async run({ values, target }) {
      if (!values.at) throw new UsageError('--at is required');
      const answer = await expectOk(target(), 'GET', `/v1/audit/state${query({ tenantId: values.tenant, at: values.at })}`);
      output(values, answer.json, describeState);
    },
  },
  export: {
    summary: 'Export events as JSON Lines or CSV, or the key inventory and lifecycle report of a period as HTML',
    details: 'Streams to --out (or standard output), with a progress bar on a terminal.',
    options: {
      format: { type: 'string', value: 'FORMAT', description: 'jsonl (default), csv or html' },
      out: { type: 'string', value: 'FILE', description: 'write here instead of standard output' },
      ...filterOptions,
    },
    async run({ values, target }) {
      const format = values.format ?? 'jsonl';
      if (!['jsonl', 'csv', 'html'].includes(format)) throw new UsageError('--format is jsonl, csv or html');
      const answer = await stream(target(), 'GET', `/v1/audit/export${query({ ...filterParams(values), format })}`);
      if (answer.status !== 200) throw refused(answer);
      const headSeq = Number(answer.headers['x-keyward-head-seq'] ?? 0);
      const bar =
        values.out && format !== 'html'
          ? progressBar('export |{bar}| {percentage}% | seq {value}/{total} | {records} records', headSeq)
          : undefined;
      const counter = recordCounter(format, (p) => bar?.update(p.lastSeq, { records: p.records }));
      try {
        await pipeline(answer.body, counter, values.out ? createWriteStream(values.out, { mode: 0o600 }) : process.stdout);
      } finally {
        bar?.stop();
      }
      if (!values.out) return;
      const done = { file: values.out, format, headSeq, ...counter.summary() };
      output(
        values,
        done,
        (d) =>
          `Wrote ${d.bytes} bytes${format === 'html' ? '' : ` (${d.records} events)`} to ${d.file}; the log head was seq ${d.headSeq}.`,
      );
    },
  },
  checkpoints: {
    summary: "Signed checkpoints of the tenant's chain head, newest first; check their signatures, save one",
    options: {
      verify: { type: 'boolean', description: 'check every signature (with --public-key, or the keys key-api publishes)' },
      'public-key': { type: 'string', value: 'FILE', description: 'the checkpoint public key you pinned (PEM)' },
      save: { type: 'string', value: 'FILE', description: 'write the newest checkpoint to FILE (for a later "audit verify --checkpoint")' },
      limit: { type: 'string', value: 'N', description: 'items per page (1-500, default 50)' },
      cursor: { type: 'string', value: 'CURSOR', description: 'nextCursor of a previous page' },
      all: { type: 'boolean', description: 'follow every page' },
      ...tenantOption,
    },
    async run({ values, target }) {
      const t = target();
      const page = await pages(
        t,
        '/v1/audit/checkpoints',
        { tenantId: values.tenant, limit: values.limit, cursor: values.cursor },
        values.all,
      );
      let invalid = 0;
      if (values.verify) {
        const { verifyCheckpoint } = signatures();
        const keys = new Map();
        for (const c of page.items) {
          if (!keys.has(c.keyId)) keys.set(c.keyId, await checkpointKey(t, c, values['public-key']).catch(() => null));
          const pem = keys.get(c.keyId);
          c.signatureValid = pem !== null && verifyCheckpoint(c, pem);
          if (!c.signatureValid) invalid += 1;
        }
      }
      if (values.save) {
        if (page.items.length === 0) throw new Error('there is no checkpoint to save yet');
        writeFileSync(values.save, `${JSON.stringify(page.items[0], null, 2)}\n`);
      }
      output(values, page, (p) =>
        [
          table(p.items, [
            ['seq', (c) => c.seq],
            ['signed at', (c) => c.at],
            ['hash', (c) => c.hash],
            ['key', (c) => c.keyId],
            ...(values.verify ? [['signature', (c) => (c.signatureValid ? 'valid' : 'INVALID')]] : []),
          ]),
          ...(p.nextCursor ? [`(more: --cursor ${p.nextCursor}, or --all)`] : []),
          ...(values.save ? [`Saved the checkpoint of seq ${p.items[0].seq} to ${values.save}.`] : []),
        ].join('\n'),
      );
      if (invalid > 0) process.exitCode = EX_CHECK_FAILED;
    },
  },
  usage: {
    summary: 'Crypto usage records of the tenant (a bounded scan of the usage topic from --from on)',
    options: {
      key: { type: 'string', value: 'KEY', description: 'only this key id' },
      from: { type: 'string', value: 'ISO', description: 'earliest record time' },
      to: { type: 'string', value: 'ISO', description: 'latest record time' },
      limit: { type: 'string', value: 'N', description: 'most records (1-10000, default 1000)' },
      ...tenantOption,
    },
    async run({ values, target }) {
      const params = { tenantId: values.tenant, keyId: values.key, from: values.from, to: values.to, limit: values.limit };
      const answer = await expectOk(target(), 'GET', `/v1/audit/usage${query(params)}`);
      output(values, answer.json, (r) =>
        [
          table(r.items, [
            ['at', (u) => u.at],
            ['operation', (u) => u.operation],
            ['key', (u) => `${u.keyId ?? '-'}${u.version ? ` v${u.version}` : ''}`],
            ['principal', (u) => `${u.principalId} (${u.role})`],
            ['outcome', (u) => u.outcome],
          ]),
          `(${r.scanned} records scanned${r.truncated ? '; truncated: narrow --from/--to or raise --limit' : ''})`,
        ].join('\n'),
      );
    },
  },
  'public-key': {
    summary: 'The public key(s) that sign checkpoints (PEM); pin the one you trust',
    options: { out: { type: 'string', value: 'FILE', description: 'write the current key (PEM) to FILE' } },
    async run({ values, target }) {
      const answer = await expectOk({ ...target(), apiKey: undefined }, 'GET', '/v1/audit/public-key');
      const { current, keys } = answer.json;
      const key = keys.find((k) => k.keyId === current) ?? keys.at(-1);
      if (values.out && key) writeFileSync(values.out, key.pem);
      output(values, answer.json, () =>
        keys.map((k) => `key ${k.keyId}${k.keyId === current ? ' (current)' : ''}, since ${k.createdAt}\n${k.pem.trimEnd()}`).join('\n\n'),
      );
    },
    connection: { apiKey: false },
  },
};

export const run = (args) => runGroup('audit', summary, verbs, args);
