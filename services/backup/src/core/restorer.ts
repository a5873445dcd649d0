import { Binary, MongoBulkWriteError, MongoServerError, type Db } from 'mongodb';
import { CredentialStore, type CredentialDocument } from '@keyward/auth';
import {
  BackupError,
  keyCheckValue,
  Keystore,
  materialId,
  shredCommitted,
  type KeystoreDocument,
  type SnapshotManifest,
  type SnapshotRecord,
} from '@keyward/crypto';
import { commitEffects, PROVIDER_LOG } from '@keyward/domain';
import {
  commitId,
  CommitStore,
  describeRejected,
  Projector,
  TenantChains,
  toCommit,
  ViewCollections,
  type ChainBreak,
  type Commit,
  type CommitDocument,
  type CommitRejection,
} from '@keyward/event-log';
import type { BackupKeys } from './backup-keys';
import { silentProgress, type Progress } from './progress';
import type { SnapshotStore } from './snapshot-store';
import { readPart, verifySnapshot } from './snapshot-verifier';

/** Reads the whole event topic from its beginning, handing commits over in batches. */
export type LogReader = (
  onCommits: (commits: Commit[]) => Promise<void>,
  onProgress: (done: number, total: number) => void,
) => Promise<number>;

export interface RestoreOptions {
  readonly keys: BackupKeys;
  readonly rootKey: Buffer;
  /** Restore the DEK part of this snapshot (refused unless it is the KEK part's own). */
  readonly dekSnapshotId?: string;
  /** Brings the commit log back from keyward.events when MongoDB lost it. */
  readonly readLog: LogReader;
  readonly progress?: Progress;
}

export interface RestoreReport {
  readonly snapshotId: string;
  readonly createdAt: string;
  readonly seconds: number;
  readonly keystore: { readonly keks: number; readonly materials: number };
  /** `restored`: from the snapshot; `kept`: the credentials collection was not empty, so it was left alone. */
  readonly credentials: { readonly restored: number } | { readonly kept: number };
  readonly log: { readonly imported: number; readonly commits: number; readonly afterSnapshot: number };
  /** Keystore entries deleted again by replaying destructions and offboardings; `afterSnapshot`: by commits newer than the snapshot. */
  readonly shredded: { readonly total: number; readonly afterSnapshot: number };
  readonly revokedPrincipals: number;
  /** Key versions the log has but the snapshot did not (created after it): their data cannot be decrypted. */
  readonly missingVersions: readonly string[];
  readonly views: { readonly tenants: number };
  readonly warnings: readonly string[];
}

const BATCH = 1000;

function isDuplicateOnly(err: unknown): boolean {
  if (err instanceof MongoBulkWriteError) {
    const errors: readonly { readonly code: unknown }[] = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    return errors.length > 0 && errors.every((e) => e.code === 11000);
  }
  return err instanceof MongoServerError && err.code === 11000;
}

/**
 * Restores a snapshot into an empty keystore, then replays the log:
 *
 * 1. refuses a keystore that holds any KEK or material (or another root key);
 * 2. verifies both parts completely (manifests, every chunk, digests, root key, every KEK and
 *    material) before writing anything;
 * 3. brings the commit log back from keyward.events if MongoDB lost it, and checks that the log
 *    holds the very commits the snapshot was taken at;
 * 4. writes the root check value, KEKs and material (and the hashed API keys, if the credentials
 *    collection is empty), undoing it all if anything fails;
 * 5. replays every commit: destructions and offboardings shred again what the snapshot still
 *    held, revocations disable API keys again, and the views are rebuilt from the log.
 */
export async function restoreSnapshot(db: Db, store: SnapshotStore, snapshotId: string, options: RestoreOptions): Promise<RestoreReport> {
  const started = performance.now();
  const progress = options.progress ?? silentProgress;
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    progress.note(message);
  };
  const keystore = new Keystore(db);
  const commitStore = new CommitStore(db);
  const credentials = new CredentialStore(db);

  const liveRoot = await refuseNonEmpty(keystore, db.databaseName);
  const verified = await verifySnapshot(store, snapshotId, {
    keys: options.keys,
    rootKey: options.rootKey,
    progress,
    ...(options.dekSnapshotId === undefined ? {} : { dekSnapshotId: options.dekSnapshotId }),
  });
  const manifest = verified.manifest;
  const rootKcv = manifest.rootKcv ?? keyCheckValue(options.rootKey);
  if (liveRoot !== null && liveRoot !== rootKcv) {
    throw new BackupError(
      'not-empty',
      `the keystore of database ${db.databaseName} was initialised with root key ${liveRoot}, but snapshot ${snapshotId} with ${rootKcv}`,
    );
  }

  await commitStore.ensureIndexes();
  const logWasEmpty = (await commitStore.commits.findOne({}, { projection: { _id: 1 } })) === null;
  const credentialsWereEmpty = (await credentials.credentials.findOne({}, { projection: { _id: 1 } })) === null;
  let imported = 0;
  let wroteKeystore = false;
  let wroteCredentials = false;
  try {
    if (logWasEmpty) imported = await importLog(commitStore, options.readLog, progress, warn);
    await checkPositions(commitStore, manifest, warn);

    await keystore.ensureIndexes();
    await credentials.ensureIndexes();
    wroteKeystore = true;
    wroteCredentials = credentialsWereEmpty;
    const written = await writeKeystore(db, store, manifest, options.keys, rootKcv, credentialsWereEmpty, progress);
    const replay = await replayLog(db, manifest, written.materialIds, credentialsWereEmpty, progress, warn);
    if (replay.providerCommits > 0) {
      await db
        .collection<{ _id: string; at: string }>('system')
        .insertOne({ _id: 'provider-admin-bootstrap', at: new Date().toISOString() })
        .catch((err: unknown) => {
          if (!isDuplicateOnly(err)) throw err;
        });
    }
    return {
      snapshotId,
      createdAt: manifest.createdAt,
      seconds: (performance.now() - started) / 1000,
      keystore: { keks: written.keks, materials: written.materialIds.size },
      credentials: credentialsWereEmpty ? { restored: written.credentials } : { kept: await credentials.credentials.countDocuments({}) },
      log: { imported, commits: replay.commits, afterSnapshot: replay.afterSnapshot },
      shredded: replay.shredded,
      revokedPrincipals: replay.revoked,
      missingVersions: replay.missing,
      views: { tenants: replay.tenants },
      warnings,
    };
  } catch (err: unknown) {
    // Leave the database as it was found: an empty keystore (and log and credentials, if they were).
    if (wroteKeystore) await keystore.collection.deleteMany({});
    if (wroteCredentials) await credentials.credentials.deleteMany({});
    if (logWasEmpty) await Promise.all([commitStore.commits.deleteMany({}), commitStore.heads.deleteMany({})]);
    throw err;
  }
}

/** Answers the root check value a restore may keep (a key-api started on the empty keystore records it). */
async function refuseNonEmpty(keystore: Keystore, database: string): Promise<string | null> {
  const keks = await keystore.collection.countDocuments({ kind: 'kek' });
  const materials = await keystore.collection.countDocuments({ kind: 'material' });
  if (keks + materials > 0) {
    throw new BackupError(
      'not-empty',
      `the keystore of database ${database} is not empty (${keks} KEK(s), ${materials} piece(s) of material): a restore only goes into an empty keystore, since restoring over live keys could bring destroyed material back or mix two key sets`,
    );
  }
  return keystore.rootCheck();
}

/** Why a message of the topic that does not continue its tenant's chain is not imported. */
const IMPORT_REFUSAL: Readonly<Record<ChainBreak, CommitRejection>> = {
  gap: 'not-in-store',
  'broken-link': 'hash-differs',
  'hash-mismatch': 'hash-does-not-recompute',
};

/**
 * Brings the commit log back from the topic. There is no store to check the messages against here
 * (it is what was lost), so each tenant's chain is: a message is imported only when it is the next
 * seq, links to the commit imported before it and hashes to its own hash; the first message of a
 * seq wins (the relay's, since it was published before anyone could replay or alter it), and a
 * message that does not fit is left out and reported. The snapshot's positions (checkPositions)
 * then anchor every tenant's chain up to the snapshot.
 */
async function importLog(commitStore: CommitStore, readLog: LogReader, progress: Progress, warn: (m: string) => void): Promise<number> {
  let imported = 0;
  let staged = false;
  let reported = 0;
  const chains = new TenantChains();
  let refused = 0;
  const refusedNamed: string[] = [];
  await readLog(
    async (commits) => {
      const unique = new Map<string, Commit>();
      for (const c of commits) {
        if (c.seq <= chains.head(c.tenantId).seq) continue; // republished (or replayed): the first of a seq was imported
        const broken = chains.accept(c);
        if (broken !== undefined) {
          refused += 1;
          const reason = IMPORT_REFUSAL[broken];
          if (refusedNamed.length < 10) refusedNamed.push(describeRejected({ tenantId: c.tenantId, seq: c.seq, reason }));
          continue;
        }
        unique.set(commitId(c.tenantId, c.seq), c);
      }
      const docs: CommitDocument[] = [...unique].map(([_id, c]) => ({ ...toCommit(c), _id, published: true }));
      if (docs.length === 0) return;
      try {
        const result = await commitStore.commits.insertMany(docs, { ordered: false });
        imported += result.insertedCount;
      } catch (err: unknown) {
        if (!isDuplicateOnly(err)) throw err;
        imported += (err as MongoBulkWriteError).insertedCount;
      }
    },
    (done, total) => {
      if (!staged) progress.stage('import event log', total, 'commits');
      staged = true;
      progress.advance('import event log', done - reported);
      reported = done;
    },
  );
  progress.finish('import event log');
  // Imported commits bypass CommitStore.append: give their tenants head hints (CommitStore.tenantIds).
  await commitStore.raiseHeadHints([...chains.entries()].map(([tenantId, head]) => [tenantId, head.seq] as const));
  if (refused > 0) {
    warn(
      `SECURITY: ${refused} message(s) of the event topic do not continue their tenant's hash chain (forged, altered or replayed) and were not imported: ${refusedNamed.join(', ')}`,
    );
  }
  return imported;
}

/**
 * The log must hold the commit each tenant was at when the snapshot was taken, with the same hash;
 * a log that ends earlier lost commits (warned); an empty log makes the restored keys unusable.
 */
async function checkPositions(commitStore: CommitStore, manifest: SnapshotManifest, warn: (m: string) => void): Promise<void> {
  const tenants = Object.entries(manifest.positions);
  const behind: string[] = [];
  for (const [tenantId, position] of tenants) {
    const commit = await commitStore.get(tenantId, position.seq);
    if (commit === null) {
      const head = await commitStore.head(tenantId);
      behind.push(
        `the log of tenant ${tenantId} ends at seq ${head?.seq ?? 0}, before the snapshot's position (seq ${position.seq}): commits were lost`,
      );
    } else if (commit.hash !== position.hash) {
      throw new BackupError(
        'log-mismatch',
        `the event log is not the one snapshot ${manifest.snapshotId} was taken against: commit ${tenantId}:${position.seq} has hash ${commit.hash}, the snapshot recorded ${position.hash}`,
      );
    }
  }
  if (tenants.length > 0 && (await commitStore.commits.findOne({}, { projection: { _id: 1 } })) === null) {
    throw new BackupError(
      'log-mismatch',
      `the event log is empty (neither in MongoDB nor in the event topic), but snapshot ${manifest.snapshotId} was taken at ${tenants.length} tenant log(s): without the log no key can be used`,
    );
  }
  for (const message of behind) warn(message);
}

async function writeKeystore(
  db: Db,
  store: SnapshotStore,
  manifest: SnapshotManifest,
  keys: BackupKeys,
  rootKcv: string,
  restoreCredentials: boolean,
  progress: Progress,
): Promise<{ keks: number; materialIds: Set<string>; credentials: number }> {
  const keystore = new Keystore(db);
  const collection = db.collection<KeystoreDocument>('keystore');
  const credentials = db.collection<CredentialDocument>('credentials');
  const materialIds = new Set<string>();
  let keks = 0;
  let restoredCredentials = 0;
  let batch: KeystoreDocument[] = [];
  let credentialBatch: CredentialDocument[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length > 0) await collection.insertMany(batch, { ordered: false, writeConcern: { w: 'majority' } });
    if (credentialBatch.length > 0) await credentials.insertMany(credentialBatch, { ordered: false, writeConcern: { w: 'majority' } });
    batch = [];
    credentialBatch = [];
  };
  const onRecord = async (record: SnapshotRecord): Promise<void> => {
    switch (record.t) {
      case 'root':
        await keystore.claimRoot(record.kcv);
        return;
      case 'kek':
        keks += 1;
        batch.push({
          _id: `kek:${record.tenantId}`,
          kind: 'kek',
          tenantId: record.tenantId,
          rootKcv: record.rootKcv,
          sealed: new Binary(Buffer.from(record.sealed, 'base64')),
          createdAt: new Date(record.createdAt),
        });
        break;
      case 'material': {
        const _id = materialId(record, record.kcv);
        materialIds.add(_id);
        batch.push({
          _id,
          kind: 'material',
          tenantId: record.tenantId,
          keyId: record.keyId,
          version: record.version,
          kcv: record.kcv,
          sealed: new Binary(Buffer.from(record.sealed, 'base64')),
          createdAt: new Date(record.createdAt),
        });
        break;
      }
      case 'credential':
        if (restoreCredentials) {
          credentialBatch.push(record.doc as unknown as CredentialDocument);
          restoredCredentials += 1;
        }
        break;
    }
    if (batch.length + credentialBatch.length >= BATCH) await flush();
  };
  if (manifest.rootKcv === null) await keystore.claimRoot(rootKcv);
  await readPart(store, 'kek', manifest.snapshotId, manifest, keys, progress, 'restore KEK part', onRecord);
  await flush();
  await readPart(store, 'dek', manifest.snapshotId, manifest, keys, progress, 'restore DEK part', onRecord);
  await flush();
  return { keks, materialIds, credentials: restoredCredentials };
}

interface ReplayResult {
  readonly commits: number;
  readonly afterSnapshot: number;
  readonly shredded: { total: number; afterSnapshot: number };
  readonly revoked: number;
  readonly missing: string[];
  readonly tenants: number;
  readonly providerCommits: number;
}

async function replayLog(
  db: Db,
  manifest: SnapshotManifest,
  restoredMaterial: ReadonlySet<string>,
  replayRevocations: boolean,
  progress: Progress,
  warn: (m: string) => void,
): Promise<ReplayResult> {
  const keystore = new Keystore(db);
  const commitStore = new CommitStore(db);
  const credentials = new CredentialStore(db);
  const views = new ViewCollections(db);
  await views.drop();
  await views.ensureIndexes();
  const projector = new Projector(views, commitStore);
  const total = await commitStore.commits.countDocuments({});
  progress.stage('replay event log', total, 'commits');
  /** Versions the log introduced and did not destroy, by material id. */
  const expected = new Map<string, { tenantId: string; keyId: string; version: number; seq: number }>();
  const chains = new TenantChains();
  const brokenTenants = new Set<string>();
  const result = { commits: 0, afterSnapshot: 0, shredded: { total: 0, afterSnapshot: 0 }, revoked: 0, providerCommits: 0 };
  let batch: Commit[] = [];
  const apply = async (): Promise<void> => {
    if (batch.length === 0) return;
    await projector.apply(batch);
    progress.advance('replay event log', batch.length);
    batch = [];
  };
  for await (const doc of commitStore.commits.find({}).sort({ tenantId: 1, seq: 1 }).batchSize(BATCH)) {
    const commit = toCommit(doc);
    result.commits += 1;
    if (commit.tenantId === PROVIDER_LOG) result.providerCommits += 1;
    const after = commit.seq > (manifest.positions[commit.tenantId]?.seq ?? 0);
    if (after) result.afterSnapshot += 1;
    if (!brokenTenants.has(commit.tenantId) && chains.check(commit) !== undefined) {
      brokenTenants.add(commit.tenantId);
      warn(`the log of tenant ${commit.tenantId} does not verify at seq ${commit.seq} (gap or broken hash chain)`);
    }
    chains.advance(commit);
    const effects = commitEffects(commit.events);
    const shredded = await shredCommitted(keystore, commit.tenantId, effects.shred);
    result.shredded.total += shredded;
    if (after) result.shredded.afterSnapshot += shredded;
    for (const event of commit.events) {
      if (event.type === 'key.created.v1' || event.type === 'key.rotated.v1') {
        const ref = { tenantId: commit.tenantId, keyId: event.data.keyId, version: event.data.version.version };
        expected.set(materialId(ref, event.data.version.kcv), { ...ref, seq: commit.seq });
      }
    }
    // What the commit shredded is no longer expected in the snapshot.
    for (const order of effects.shred) {
      for (const [id, entry] of expected) {
        if (
          entry.tenantId === commit.tenantId &&
          (order.shred === 'tenant' || (entry.keyId === order.keyId && order.versions.includes(entry.version)))
        ) {
          expected.delete(id);
        }
      }
    }
    if (replayRevocations) {
      for (const principalId of effects.disablePrincipals) {
        result.revoked += (await credentials.disablePrincipal(commit.tenantId, principalId)) > 0 ? 1 : 0;
      }
    }
    batch.push(commit);
    if (batch.length >= 500) await apply();
  }
  await apply();
  progress.finish('replay event log');
  const missing: string[] = [];
  for (const [id, entry] of expected) {
    if (restoredMaterial.has(id)) continue;
    const afterSnapshot = entry.seq > (manifest.positions[entry.tenantId]?.seq ?? 0);
    missing.push(`${entry.tenantId}/${entry.keyId} v${entry.version} (seq ${entry.seq}${afterSnapshot ? ', after the snapshot' : ''})`);
  }
  if (missing.length > 0) {
    warn(
      `${missing.length} key version(s) in the log have no material in snapshot ${manifest.snapshotId} (created after it): data encrypted under them cannot be decrypted. First: ${missing.slice(0, 5).join(', ')}`,
    );
  }
  return { ...result, missing, tenants: chains.size };
}
