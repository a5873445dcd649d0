import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { BackupRecords, writtenReport } from '@keyward/backup-records';
import { defineGroup, defineVerb, UsageError, type Invocation, type OptionSpecs, type ValuesOf } from '@keyward/cli-kit';
import { kafkaClientSecurity, loadConfig, type KeywardConfig } from '@keyward/config';
import { BackupError, combineRootKeyShares, decodeShare, isSnapshotId, loadRootKey, ShareError, type RootKeyShare } from '@keyward/crypto';
import { replayTopic } from '@keyward/event-log';
import { configuredRootKey, loadBackupKeys, zeroKeys, type BackupKeys } from '../core/backup-keys';
import { restoreSnapshot, type RestoreReport } from '../core/restorer';
import { SnapshotStore, type SnapshotListing } from '../core/snapshot-store';
import { SnapshotTaker, type BackupResult } from '../core/snapshot-taker';
import { verifySnapshot, type VerifyReport } from '../core/snapshot-verifier';
import { openDestination } from '../destinations/open-destination';
import { CliProgress, formatBytes } from './cli-progress-bars';
import { fixIdleRequestQueue } from '@keyward/platform';

/** Where the snapshot parts go and the keys they are sealed with: every verb takes these. */
const WHERE = {
  'kek-dest': {
    type: 'string',
    value: 'DEST',
    description: 'directory or s3://bucket/prefix of the KEK part (S3 endpoint: BACKUP_KEK_S3_*)',
  },
  'dek-dest': {
    type: 'string',
    value: 'DEST',
    description: 'directory or s3://bucket/prefix of the DEK part (S3 endpoint: BACKUP_DEK_S3_*)',
  },
  'kek-key-file': { type: 'string', value: 'FILE', description: 'KEK backup key (32 raw bytes or base64)' },
  'dek-key-file': { type: 'string', value: 'FILE', description: 'DEK backup key' },
  json: { type: 'boolean', description: 'print a JSON summary on stdout instead of text' },
} as const;

const WHERE_TITLE =
  'Destinations and keys (default: the environment, BACKUP_KEK_DEST, BACKUP_DEK_DEST, BACKUP_KEK_KEY_FILE, BACKUP_DEK_KEY_FILE,\nMONGODB_URI, MONGODB_DB, ..., as for the backup service)';

const REMOTE = {
  url: { type: 'string', value: 'URL', description: 'ask a running backup service instead (/v1/backups, e.g. http://127.0.0.1:8445)' },
  'api-key': { type: 'string', value: 'KEY', description: 'provider-admin API key for --url (or KEYWARD_API_KEY)' },
} as const;

const ROOT = {
  'root-key-file': {
    type: 'string',
    value: 'FILE',
    description: 'the root key (default: ROOT_KEY / ROOT_KEY_FILE, or the development key in KEYWARD_DATA)',
  },
  'root-shares': {
    type: 'string',
    value: 'FILE',
    description: 'combine custodians\' Shamir shares instead (one kwshare-… per line; "-" reads stdin)',
  },
} as const;

const DEK_SNAPSHOT = {
  'dek-snapshot': {
    type: 'string',
    value: 'ID',
    description: 'take the DEK part from another snapshot id (refused unless it is the same snapshot)',
  },
} as const;

type Values = ValuesOf<typeof WHERE & typeof REMOTE & typeof ROOT & typeof DEK_SNAPSHOT>;

/** A backup verb: its own options, then the destinations and keys. */
function backupVerb<const O extends OptionSpecs>(spec: {
  readonly summary: string;
  readonly details: string;
  readonly args?: string;
  readonly options: O;
  run(values: ValuesOf<O & typeof WHERE>, snapshotId: string, inv: Invocation): Promise<void>;
}) {
  return defineVerb({
    summary: spec.summary,
    details: spec.details,
    ...(spec.args === undefined ? {} : { args: spec.args }),
    options: { ...spec.options, ...WHERE },
    sections: [
      { title: 'Options', options: spec.options },
      { title: WHERE_TITLE, options: WHERE },
    ],
    run: ({ values, positionals }, inv) => {
      const all = values as ValuesOf<O & typeof WHERE>;
      const snapshotId = positionals[0] ?? '';
      if (positionals.length > 0 && !isSnapshotId(snapshotId)) throw new UsageError(`"${snapshotId}" is not a snapshot id (bk-…)`);
      return spec.run(all, snapshotId, inv);
    },
  });
}

export const backup = defineGroup({
  summary: 'Backups: take, list, verify and restore snapshots',
  commands: {
    now: backupVerb({
      summary: 'Take a snapshot: KEK part and DEK part, each to its own destination',
      details: `Takes a snapshot from MongoDB: the KEK part (tenant KEKs, still wrapped by the root key) to
BACKUP_KEK_DEST under the KEK backup key, the DEK part (key material, still wrapped by the tenant
KEKs, and hashed API keys) to BACKUP_DEK_DEST under the DEK backup key, and a signed manifest beside
each. Then deletes snapshots beyond BACKUP_RETAIN. Prints the snapshot id, time and sizes.`,
      options: REMOTE,
      run: (values, _id, inv) => (values.url === undefined ? now(configFrom(values, inv.io.env), values, inv) : remote('now', values, inv)),
    }),
    list: backupVerb({
      summary: 'List the snapshots in both destinations, newest first',
      details: `Lists the snapshots of both destinations, newest first, checking each manifest's signature with the
backup keys and that the two parts form a pair ("complete"), or saying why not.`,
      options: REMOTE,
      run: (values, _id, inv) =>
        values.url === undefined ? list(configFrom(values, inv.io.env), values, inv) : remote('list', values, inv),
    }),
    verify: backupVerb({
      summary: 'Check that both parts of a snapshot decrypt and match their signed manifests',
      args: '<snapshot-id>',
      details: `Changes nothing. Checks that both manifests verify under their own backup keys and describe one
snapshot, that both parts are there, every chunk authenticates up to the final one, and sizes,
SHA-256 digests and record counts match the manifest. With the root key (--root-key-file or
--root-shares) it also checks that it is the snapshot's root key, that every KEK unwraps and every
piece of material unwraps to its check value.`,
      options: ROOT,
      run: (values, snapshotId, inv) => verifyOrRestore('verify', snapshotId, configFrom(values, inv.io.env), values, inv),
    }),
    restore: backupVerb({
      summary: 'Restore a snapshot into an empty keystore, then replay the event log',
      args: '<snapshot-id>',
      details: `Restores a snapshot into an EMPTY keystore (MONGODB_URI, MONGODB_DB): stop key-api and the projector
first. Needs both parts, both backup keys and the root key. Everything is verified before anything is
written. If MongoDB lost the commit log, it is read back from the event topic (KAFKA_BROKERS,
KAFKA_TOPIC_EVENTS); the log must hold the commits the snapshot was taken at. Then the log is replayed:
keys destroyed (and tenants offboarded) after the snapshot are shredded again, API keys revoked after
it are disabled again, and the views are rebuilt. Then start key-api and the projector.`,
      options: { ...ROOT, ...DEK_SNAPSHOT },
      run: (values, snapshotId, inv) => {
        if (values['dek-snapshot'] !== undefined && !isSnapshotId(values['dek-snapshot'])) {
          throw new UsageError(`"${values['dek-snapshot']}" is not a snapshot id (bk-…)`);
        }
        return verifyOrRestore('restore', snapshotId, configFrom(values, inv.io.env), values, inv);
      },
    }),
  },
});

/** The configuration the service would load, with the command line's destinations and keys. */
function configFrom(values: Values, env: NodeJS.ProcessEnv): KeywardConfig {
  const overrides: Record<string, string | undefined> = { BACKUP_SCHEDULE: undefined };
  if (values['kek-dest'] !== undefined) overrides.BACKUP_KEK_DEST = values['kek-dest'];
  if (values['dek-dest'] !== undefined) overrides.BACKUP_DEK_DEST = values['dek-dest'];
  if (values['kek-key-file'] !== undefined)
    Object.assign(overrides, { BACKUP_KEK_KEY_FILE: values['kek-key-file'], BACKUP_KEK_KEY: undefined });
  if (values['dek-key-file'] !== undefined)
    Object.assign(overrides, { BACKUP_DEK_KEY_FILE: values['dek-key-file'], BACKUP_DEK_KEY: undefined });
  return loadConfig({ ...env, ...overrides });
}

interface Session {
  readonly store: SnapshotStore;
  readonly keys: BackupKeys;
}

async function withSession<T>(config: KeywardConfig, use: (session: Session) => Promise<T>): Promise<T> {
  const destinations = config.backup.destinations;
  if (destinations === null) {
    throw new BackupError('not-configured', 'no destinations: set BACKUP_KEK_DEST and BACKUP_DEK_DEST (or --kek-dest and --dek-dest)');
  }
  const rootKey = configuredRootKey(config);
  let keys: BackupKeys;
  try {
    keys = loadBackupKeys(config.backup.keys, rootKey);
  } finally {
    rootKey?.fill(0);
  }
  const store = new SnapshotStore(openDestination(destinations.kek), openDestination(destinations.dek));
  try {
    return await use({ store, keys });
  } finally {
    store.close();
    zeroKeys(keys);
  }
}

async function withMongo<T>(config: KeywardConfig, use: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = await MongoClient.connect(config.mongo.uri, {
    serverSelectionTimeoutMS: 10_000,
    appName: `${config.kafka.clientId}-backup-cli`,
  });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

async function now(config: KeywardConfig, values: Values, inv: Invocation): Promise<void> {
  const progress = new CliProgress(inv.io.err);
  let result: BackupResult;
  try {
    result = await withSession(config, ({ store, keys }) =>
      withMongo(config, async (client) => {
        const db = client.db(config.mongo.db);
        const taken = await new SnapshotTaker(db, store, keys, config.backup.retain).take('cli', progress);
        await recordRun(new BackupRecords(db), taken, inv);
        return taken;
      }),
    );
  } finally {
    progress.stop();
  }
  inv.io.out.write(values.json ? `${JSON.stringify(result)}\n` : describeBackup(result));
}

/** The snapshot becomes readable by key-api (GET /v1/sys/backups) at once; a record that cannot be written only warns. */
async function recordRun(records: BackupRecords, taken: BackupResult, inv: Invocation): Promise<void> {
  try {
    await records.record(writtenReport({ ...taken, trigger: 'cli' }));
    await records.forget(taken.pruned);
  } catch (err: unknown) {
    inv.io.err.write(
      `warning: the snapshot is stored, but not recorded for key-api: ${err instanceof Error ? err.message : String(err)}\n`,
    );
  }
}

export function describeBackup(result: BackupResult): string {
  const { kek, dek } = result.parts;
  return [
    `snapshot ${result.snapshotId} taken in ${result.seconds.toFixed(2)} s (${result.tenants} tenant log position(s))`,
    `  KEK part: ${kek.records.kek ?? 0} KEK(s), ${formatBytes(kek.bytes)} -> ${kek.destination}`,
    `  DEK part: ${dek.records.material ?? 0} piece(s) of material, ${dek.records.credential ?? 0} API key(s), ${formatBytes(dek.bytes)} -> ${dek.destination}`,
    ...(result.pruned.length > 0 ? [`  retention deleted: ${result.pruned.join(', ')}`] : []),
    '',
  ].join('\n');
}

async function list(config: KeywardConfig, values: Values, inv: Invocation): Promise<void> {
  const listings = await withSession(config, ({ store, keys }) => store.list(keys));
  inv.io.out.write(values.json ? `${JSON.stringify({ items: listings })}\n` : describeListing(listings));
}

function describeListing(listings: readonly SnapshotListing[]): string {
  if (listings.length === 0) return 'no snapshots\n';
  return listings
    .map((l) => {
      const size = (bytes: number | null) => (bytes === null ? '?' : formatBytes(bytes));
      const head = `${l.snapshotId}  ${l.createdAt ?? '?'}  ${l.complete ? 'complete' : 'INCOMPLETE'}`;
      const body = `  ${l.records.kek ?? 0} KEK(s), ${l.records.material ?? 0} material, ${l.tenants ?? '?'} tenant(s); KEK part ${size(l.parts.kek.bytes)}, DEK part ${size(l.parts.dek.bytes)}`;
      return [head, body, ...(l.problem === null ? [] : [`  ${l.problem}`])].join('\n');
    })
    .join('\n')
    .concat('\n');
}

async function rootKeyFrom(values: Values, config: KeywardConfig): Promise<Buffer | null> {
  if (values['root-key-file'] !== undefined && values['root-shares'] !== undefined)
    throw new UsageError('give --root-key-file or --root-shares, not both');
  if (values['root-key-file'] !== undefined) {
    const loaded = loadRootKey({ kind: 'file', path: values['root-key-file'] });
    if (loaded.key === null) throw new UsageError(`--root-key-file: ${loaded.reason.replace(/^ROOT_KEY_FILE /, '')}`);
    return loaded.key;
  }
  if (values['root-shares'] !== undefined) {
    const text = values['root-shares'] === '-' ? await readStdin() : readFileSync(values['root-shares'], 'utf8');
    const shares: RootKeyShare[] = [];
    try {
      for (const line of text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== ''))
        shares.push(decodeShare(line));
      return await combineRootKeyShares(shares);
    } catch (err: unknown) {
      if (err instanceof ShareError) throw new UsageError(`--root-shares: ${err.message}`);
      throw err;
    } finally {
      for (const share of shares) share.data.fill(0);
    }
  }
  return configuredRootKey(config);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function verifyOrRestore(
  verb: 'verify' | 'restore',
  snapshotId: string,
  config: KeywardConfig,
  values: Values,
  inv: Invocation,
): Promise<void> {
  const { io } = inv;
  const rootKey = await rootKeyFrom(values, config);
  if (verb === 'verify' && rootKey === null)
    io.err.write('note: no root key given; the deep checks (KEKs and material unwrap) are skipped\n');
  if (verb === 'restore' && rootKey === null) {
    throw new UsageError('restore needs the root key: --root-key-file FILE or --root-shares FILE (or ROOT_KEY_FILE)');
  }
  const progress = new CliProgress(io.err);
  try {
    if (verb === 'verify') {
      const report = await withSession(config, ({ store, keys }) => verifySnapshot(store, snapshotId, { keys, rootKey, progress }));
      progress.stop();
      io.out.write(values.json ? `${JSON.stringify(report)}\n` : describeVerify(report));
      return;
    }
    const report = await withSession(config, ({ store, keys }) =>
      withMongo(config, async (client) => {
        // kafkajs 2.2.4 otherwise spins a 1 ms timer per idle connection (Node 24 warns of its negative delay).
        fixIdleRequestQueue();
        const kafka = new Kafka({
          clientId: `${config.kafka.clientId}-restore`,
          brokers: [...config.kafka.brokers],
          ...kafkaClientSecurity(config.kafka.security),
          logLevel: logLevel.NOTHING,
        });
        return restoreSnapshot(client.db(config.mongo.db), store, snapshotId, {
          keys,
          rootKey: rootKey as Buffer,
          progress,
          ...(values['dek-snapshot'] === undefined ? {} : { dekSnapshotId: values['dek-snapshot'] }),
          readLog: async (onCommits, onProgress) => {
            try {
              return (await replayTopic(kafka, config.kafka.topics.events, onCommits, (p) => onProgress(p.messages, p.total))).messages;
            } catch (err: unknown) {
              throw new Error(
                `the commit log is gone from MongoDB and topic ${config.kafka.topics.events} cannot be read (${err instanceof Error ? err.message : String(err)})`,
                { cause: err },
              );
            }
          },
        });
      }),
    );
    progress.stop();
    io.out.write(values.json ? `${JSON.stringify(report)}\n` : describeRestore(report));
  } finally {
    progress.stop();
    rootKey?.fill(0);
  }
}

function describeVerify(report: VerifyReport): string {
  const { kek, dek } = report.parts;
  const records = { ...kek.records, ...dek.records };
  return [
    `snapshot ${report.snapshotId} (${report.manifest.createdAt}) verified in ${report.seconds.toFixed(2)} s`,
    `  manifests: both signatures verify, one snapshot, ${Object.keys(report.manifest.positions).length} tenant log position(s)`,
    `  KEK part: ${formatBytes(kek.bytes)}, ${records.kek ?? 0} KEK(s), SHA-256 ${kek.sha256} (${kek.destination})`,
    `  DEK part: ${formatBytes(dek.bytes)}, ${records.material ?? 0} piece(s) of material, ${records.credential ?? 0} API key(s), SHA-256 ${dek.sha256} (${dek.destination})`,
    report.deep === null
      ? '  root key not given: KEKs and material were not unwrapped'
      : `  root key ${String(report.manifest.rootKcv)}: ${report.deep.keks} KEK(s) and ${report.deep.materials} piece(s) of material unwrap to their check values`,
    '',
  ].join('\n');
}

function describeRestore(report: RestoreReport): string {
  const credentials =
    'restored' in report.credentials
      ? `${report.credentials.restored} API key(s) restored`
      : `API keys kept (${report.credentials.kept} live)`;
  return [
    `snapshot ${report.snapshotId} (${report.createdAt}) restored in ${report.seconds.toFixed(2)} s`,
    `  keystore: ${report.keystore.keks} KEK(s), ${report.keystore.materials} piece(s) of material; ${credentials}`,
    `  event log: ${report.log.commits} commit(s)${report.log.imported > 0 ? ` (${report.log.imported} read back from Kafka)` : ''}, ${report.log.afterSnapshot} after the snapshot`,
    `  replay: ${report.shredded.total} keystore entr(y/ies) shredded again (${report.shredded.afterSnapshot} by destructions after the snapshot), ${report.revokedPrincipals} principal(s) revoked again, views rebuilt for ${report.views.tenants} tenant(s)`,
    ...(report.missingVersions.length > 0
      ? [`  ${report.missingVersions.length} key version(s) created after the snapshot have no material`]
      : []),
    '  next: start key-api and the projector',
    '',
  ].join('\n');
}

async function remote(verb: 'now' | 'list', values: Values, inv: Invocation): Promise<void> {
  const apiKey = values['api-key'] ?? inv.io.env.KEYWARD_API_KEY;
  if (!apiKey) throw new UsageError('--url needs --api-key (a provider-admin API key) or KEYWARD_API_KEY');
  const url = new URL('/v1/backups', values.url);
  const answer = await fetch(url, { method: verb === 'now' ? 'POST' : 'GET', headers: { authorization: `Bearer ${apiKey}` } });
  const text = await answer.text();
  if (!answer.ok) {
    let detail = text;
    try {
      const problem = JSON.parse(text) as { detail?: string; title?: string };
      detail = problem.detail ?? problem.title ?? text;
    } catch {
      // not a problem document
    }
    throw new Error(`${url.origin} answered ${answer.status}: ${detail}`);
  }
  if (values.json) inv.io.out.write(`${text.trim()}\n`);
  else if (verb === 'now') inv.io.out.write(describeBackup(JSON.parse(text) as BackupResult));
  else inv.io.out.write(describeListing((JSON.parse(text) as { items: SnapshotListing[] }).items));
}
