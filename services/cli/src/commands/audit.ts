// keyward audit: compliance over the commit log. Events, chain verification (against Kafka and
// signed checkpoints), the state at an instant, exports (JSON Lines, CSV, HTML report), checkpoints, usage.
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { defineGroup, ExitCode, progressBar, UsageError, wholeNumber, type ValuesOf } from '@keyward/cli-kit';
import { verifyCheckpoint, type SignedCheckpoint } from '@keyward/event-log';
import { apiVerb } from '../api/api-verb';
import { expectOk, pages, query, refused, stream } from '../api/client';
import { listVerb, pageOptions } from '../api/list-verb';
import { anonymous, type Target } from '../api/connection';
import { show, table, type Column } from '../output';
import { recordCounter } from './audit-records';
import { keyColumns, type Actor } from './shared';
import { AUDIT_SUMMARY } from './summaries';

const tenantOption = {
  tenant: { type: 'string', value: 'TENANT', description: 'provider-admins: the tenant to audit (default: the provider log)' },
} as const;
const filterOptions = {
  from: { type: 'string', value: 'ISO', description: 'earliest event time (inclusive)' },
  to: { type: 'string', value: 'ISO', description: 'latest event time (inclusive)' },
  'from-seq': { type: 'string', value: 'SEQ', description: 'first commit seq (inclusive)' },
  'to-seq': { type: 'string', value: 'SEQ', description: 'last commit seq (inclusive)' },
  key: { type: 'string', value: 'KEY', description: 'events about this key id (approvals of it included)' },
  type: { type: 'string', value: 'TYPE', description: 'an event type or a dotted prefix (key, key.rotated, key.rotated.v1)' },
  ...tenantOption,
} as const;
const filterParams = (v: ValuesOf<typeof filterOptions>): Record<string, string | undefined> => ({
  tenantId: v.tenant,
  from: v.from,
  to: v.to,
  fromSeq: v['from-seq'],
  toSeq: v['to-seq'],
  keyId: v.key,
  type: v.type,
});
const publicKeyOption = {
  'public-key': { type: 'string', value: 'FILE', description: 'the checkpoint public key you pinned (PEM)' },
} as const;

interface AuditEvent {
  readonly seq: number;
  readonly index: number;
  readonly at: string;
  readonly type: string;
  readonly actor: Actor;
  readonly data: { readonly keyId?: unknown; readonly command?: { readonly keyId?: unknown } };
}

const eventColumns: readonly Column<AuditEvent>[] = [
  ['seq', (e) => `${e.seq}.${e.index}`],
  ['at', (e) => e.at],
  ['type', (e) => e.type],
  ['actor', (e) => `${e.actor.principalId} (${e.actor.role})`],
  ['key', (e) => (typeof e.data.keyId === 'string' ? e.data.keyId : typeof e.data.command?.keyId === 'string' ? e.data.command.keyId : '')],
];

interface VerifyReport {
  readonly ok: boolean;
  readonly tenantId: string;
  readonly fromSeq: number;
  readonly verifiedThroughSeq: number;
  readonly headSeq: number;
  readonly headHash: string;
  readonly firstBadSeq?: number;
  readonly problem?: string;
  readonly detail?: string;
  readonly problems?: readonly { readonly seq: number; readonly problem: string; readonly detail: string }[];
  readonly kafka: { readonly messages: number; readonly topic: string; readonly publishedThroughSeq: number };
  readonly checkpoints: { readonly checked: number };
}

function describeVerify(r: VerifyReport): string {
  const lines = r.ok
    ? [
        `OK: the history of ${r.tenantId} verifies from ${r.fromSeq === 1 ? 'the genesis hash' : `the checkpoint at seq ${r.fromSeq}`} through seq ${r.verifiedThroughSeq} (head ${r.headSeq}, hash ${r.headHash}).`,
      ]
    : [
        `FAILED: the history of ${r.tenantId} does not verify.`,
        `first bad seq:  ${String(r.firstBadSeq)} (${String(r.problem)})`,
        `what is wrong:  ${String(r.detail)}`,
        `verified:       seq ${r.fromSeq} through ${r.verifiedThroughSeq} of ${r.headSeq}`,
        ...(r.problems !== undefined && r.problems.length > 1
          ? ['all checks:', ...r.problems.map((p) => `  seq ${p.seq}: ${p.problem} — ${p.detail}`)]
          : []),
      ];
  lines.push(
    `kafka:          ${r.kafka.messages} message(s) on ${r.kafka.topic}; published through seq ${r.kafka.publishedThroughSeq}`,
    `checkpoints:    ${r.checkpoints.checked} signed checkpoint(s) checked`,
  );
  return lines.join('\n');
}

/** Reads a checkpoint file (one checkpoint as `audit checkpoints --save` or `--json` writes it). */
function readCheckpoint(file: string): SignedCheckpoint {
  let checkpoint: unknown;
  try {
    checkpoint = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err: unknown) {
    throw new Error(`${file} is not a checkpoint (JSON): ${err instanceof Error ? err.message : String(err)}`);
  }
  const items = (checkpoint as { items?: unknown } | null)?.items;
  if (Array.isArray(items)) checkpoint = items[0];
  const c = checkpoint as Partial<Record<keyof SignedCheckpoint, unknown>> | null | undefined;
  if (typeof c?.seq !== 'number' || typeof c.hash !== 'string' || typeof c.signature !== 'string') {
    throw new Error(`${file} is not a signed checkpoint (seq, hash, signature)`);
  }
  return c as SignedCheckpoint;
}

interface PublishedKeys {
  readonly current: string;
  readonly keys: readonly { readonly keyId: string; readonly createdAt: string; readonly pem: string }[];
}

/** The public key (PEM) to check a checkpoint with: the pinned file, or the one key-api publishes for its keyId. */
async function checkpointKey(t: Target, checkpoint: SignedCheckpoint, pinned: string | undefined): Promise<string> {
  if (pinned) return readFileSync(pinned, 'utf8');
  const published = await expectOk<PublishedKeys>(anonymous(t), 'GET', '/v1/audit/public-key');
  const key = published.keys.find((k) => k.keyId === checkpoint.keyId);
  if (!key) throw new Error(`key-api publishes no key ${checkpoint.keyId}: the checkpoint cannot be checked`);
  return key.pem;
}

interface StateReport {
  readonly tenantId: string;
  readonly at: string;
  readonly seq: number;
  readonly committedAt?: string | null;
  readonly hash: string;
  readonly tenant?: { readonly name: string; readonly status: string } | null;
  readonly keys: readonly {
    readonly keyId: string;
    readonly alias?: string | null;
    readonly keyType: string;
    readonly state: string;
    readonly latestVersion: number;
    readonly updatedAt: string;
  }[];
  readonly principals: readonly {
    readonly principalId: string;
    readonly name: string;
    readonly role: string;
    readonly revokedAt?: string | null;
  }[];
}

function describeState(s: StateReport): string {
  const lines = [
    `${s.tenantId} at ${s.at}: seq ${s.seq}${s.committedAt ? ` (committed ${s.committedAt})` : ''}, hash ${s.hash}`,
    s.tenant ? `tenant: ${s.tenant.name}, ${s.tenant.status}` : 'tenant: did not exist yet',
    '',
    `keys (${s.keys.length}):`,
    table(s.keys, keyColumns<StateReport['keys'][number]>(['updated', (k) => k.updatedAt])),
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

type CheckedCheckpoint = SignedCheckpoint & { signatureValid?: boolean };

interface UsageRecord {
  readonly at: string;
  readonly operation: string;
  readonly keyId?: string | null;
  readonly version?: number | null;
  readonly principalId: string;
  readonly role: string;
  readonly outcome: string;
}

export const audit = defineGroup({
  summary: AUDIT_SUMMARY,
  commands: {
    events: listVerb({
      summary: 'Events of the commit log, in order, one per line (filters combine)',
      path: '/v1/audit/events',
      limit: '1-1000, default 100',
      columns: eventColumns,
      options: filterOptions,
      params: filterParams,
    }),
    verify: apiVerb({
      summary: "Verify the tenant's history: the hash chain, no missing seq, Kafka and the signed checkpoints agree",
      details:
        'Exit code 0 when it verifies, 2 when it does not (the first bad seq is printed). With a checkpoint you kept\n' +
        '(--checkpoint FILE, or --since SEQ --hash HASH), proves that the history up to it is unchanged and has only\n' +
        "been appended to since; the checkpoint's signature is checked first (with --public-key, or the key key-api publishes).",
      options: {
        since: { type: 'string', value: 'SEQ', description: 'seq of a checkpoint you hold' },
        hash: { type: 'string', value: 'HASH', description: 'its hash' },
        checkpoint: { type: 'string', value: 'FILE', description: 'a checkpoint saved with "audit checkpoints --save"' },
        ...publicKeyOption,
        ...tenantOption,
      },
      async run({ values, target, inv }) {
        const t = target();
        let since = values.since === undefined ? undefined : wholeNumber('since', values.since, { min: 1 });
        let hash = values.hash;
        if ((since === undefined) !== (hash === undefined)) throw new UsageError('--since and --hash go together');
        let checkpointNote: string | undefined;
        if (values.checkpoint) {
          if (since !== undefined) throw new UsageError('give --checkpoint or --since/--hash, not both');
          const checkpoint = readCheckpoint(values.checkpoint);
          const pinned = values['public-key'];
          const pem = await checkpointKey(t, checkpoint, pinned);
          if (!verifyCheckpoint(checkpoint, pem)) {
            throw new Error(
              `the signature of ${values.checkpoint} does not verify${pinned ? ` with ${pinned}` : ''}: it is not a checkpoint Keyward signed`,
            );
          }
          ({ seq: since, hash } = checkpoint);
          checkpointNote = `checkpoint signature: valid (key ${checkpoint.keyId}, signed ${checkpoint.at})`;
        }
        const report = await expectOk<VerifyReport>(t, 'GET', `/v1/audit/verify${query({ tenantId: values.tenant, since, hash })}`);
        show(inv, values.json, report, (r) => (checkpointNote ? `${checkpointNote}\n${describeVerify(r)}` : describeVerify(r)));
        if (!report.ok) inv.exitCode = ExitCode.CheckFailed;
      },
    }),
    state: apiVerb({
      summary: 'The tenant, its keys and principals as they were at an instant (rebuilt from the log)',
      options: { at: { type: 'string', value: 'ISO', description: 'the instant, e.g. 2026-03-01T00:00:00Z (required)' }, ...tenantOption },
      async run({ values, target, inv }) {
        if (!values.at) throw new UsageError('--at is required');
        const report = await expectOk<StateReport>(target(), 'GET', `/v1/audit/state${query({ tenantId: values.tenant, at: values.at })}`);
        show(inv, values.json, report, describeState);
      },
    }),
    export: apiVerb({
      summary: 'Export events as JSON Lines or CSV, or the key inventory and lifecycle report of a period as HTML',
      details: 'Streams to --out (or standard output), with a progress bar on a terminal.',
      options: {
        format: { type: 'string', value: 'FORMAT', description: 'jsonl (default), csv or html' },
        out: { type: 'string', value: 'FILE', description: 'write here instead of standard output' },
        ...filterOptions,
      },
      async run({ values, target, inv }) {
        const format = values.format ?? 'jsonl';
        if (format !== 'jsonl' && format !== 'csv' && format !== 'html') throw new UsageError('--format is jsonl, csv or html');
        const answer = await stream(target(), 'GET', `/v1/audit/export${query({ ...filterParams(values), format })}`);
        if (!answer.ok) throw refused(answer);
        const headSeq = Number(answer.headers['x-keyward-head-seq'] ?? 0);
        const bar =
          values.out && format !== 'html'
            ? progressBar('export |{bar}| {percentage}% | seq {value}/{total} | {records} records', headSeq)
            : undefined;
        const counter = recordCounter(format, (p) => bar?.update(p.lastSeq, { records: p.records }));
        try {
          await pipeline(answer.body, counter, values.out ? createWriteStream(values.out, { mode: 0o600 }) : inv.io.out);
        } finally {
          bar?.stop();
        }
        if (!values.out) return;
        const done = { file: values.out, format, headSeq, ...counter.summary() };
        show(
          inv,
          values.json,
          done,
          (d) =>
            `Wrote ${d.bytes} bytes${format === 'html' ? '' : ` (${d.records} events)`} to ${d.file}; the log head was seq ${d.headSeq}.`,
        );
      },
    }),
    checkpoints: apiVerb({
      summary: "Signed checkpoints of the tenant's chain head, newest first; check their signatures, save one",
      options: {
        verify: { type: 'boolean', description: 'check every signature (with --public-key, or the keys key-api publishes)' },
        ...publicKeyOption,
        save: {
          type: 'string',
          value: 'FILE',
          description: 'write the newest checkpoint to FILE (for a later "audit verify --checkpoint")',
        },
        ...pageOptions('1-500, default 50'),
        ...tenantOption,
      },
      async run({ values, target, inv }) {
        const t = target();
        const params = { tenantId: values.tenant, limit: values.limit, cursor: values.cursor };
        const page = await pages<CheckedCheckpoint>(t, '/v1/audit/checkpoints', params, values.all);
        let invalid = 0;
        if (values.verify) {
          const keys = new Map<string, string | null>();
          for (const c of page.items) {
            if (!keys.has(c.keyId)) keys.set(c.keyId, await checkpointKey(t, c, values['public-key']).catch(() => null));
            const pem = keys.get(c.keyId) ?? null;
            c.signatureValid = pem !== null && verifyCheckpoint(c, pem);
            if (!c.signatureValid) invalid += 1;
          }
        }
        const newest = page.items[0];
        if (values.save) {
          if (newest === undefined) throw new Error('there is no checkpoint to save yet');
          writeFileSync(values.save, `${JSON.stringify(newest, null, 2)}\n`);
        }
        const columns: Column<CheckedCheckpoint>[] = [
          ['seq', (c) => c.seq],
          ['signed at', (c) => c.at],
          ['hash', (c) => c.hash],
          ['key', (c) => c.keyId],
          ...(values.verify ? [['signature', (c: CheckedCheckpoint) => (c.signatureValid ? 'valid' : 'INVALID')] as const] : []),
        ];
        show(inv, values.json, page, (p) =>
          [
            table(p.items, columns),
            ...(p.nextCursor ? [`(more: --cursor ${p.nextCursor}, or --all)`] : []),
            ...(values.save && newest ? [`Saved the checkpoint of seq ${newest.seq} to ${values.save}.`] : []),
          ].join('\n'),
        );
        if (invalid > 0) inv.exitCode = ExitCode.CheckFailed;
      },
    }),
    usage: apiVerb({
      summary: 'Crypto usage records of the tenant (a bounded scan of the usage topic from --from on)',
      options: {
        key: { type: 'string', value: 'KEY', description: 'only this key id' },
        from: { type: 'string', value: 'ISO', description: 'earliest record time' },
        to: { type: 'string', value: 'ISO', description: 'latest record time' },
        limit: { type: 'string', value: 'N', description: 'most records (1-10000, default 1000)' },
        ...tenantOption,
      },
      async run({ values, target, inv }) {
        const params = { tenantId: values.tenant, keyId: values.key, from: values.from, to: values.to, limit: values.limit };
        const report = await expectOk<{ items: UsageRecord[]; scanned: number; truncated: boolean }>(
          target(),
          'GET',
          `/v1/audit/usage${query(params)}`,
        );
        show(inv, values.json, report, (r) =>
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
    }),
    'public-key': apiVerb({
      summary: 'The public key(s) that sign checkpoints (PEM); pin the one you trust',
      options: { out: { type: 'string', value: 'FILE', description: 'write the current key (PEM) to FILE' } },
      apiKey: false,
      async run({ values, target, inv }) {
        const published = await expectOk<PublishedKeys>(anonymous(target()), 'GET', '/v1/audit/public-key');
        const { current, keys } = published;
        const key = keys.find((k) => k.keyId === current) ?? keys.at(-1);
        if (values.out && key) writeFileSync(values.out, key.pem);
        show(inv, values.json, published, () =>
          keys
            .map((k) => `key ${k.keyId}${k.keyId === current ? ' (current)' : ''}, since ${k.createdAt}\n${k.pem.trimEnd()}`)
            .join('\n\n'),
        );
      },
    }),
  },
});
