import type { Db } from 'mongodb';
import type { CredentialDocument } from '@keyward/auth';
import {
  encodeSignedManifest,
  KEYSTORE,
  MANIFEST_FORMAT,
  MANIFEST_OBJECT,
  newSnapshotId,
  PART_LABEL,
  partObject,
  sealSnapshotPart,
  signManifest,
  type BackupPart,
  type DekPartRecord,
  type KekPartRecord,
  type KeystoreDocument,
  type PartEntry,
  type PartSummary,
  type SnapshotManifest,
} from '@keyward/crypto';
import type { WrittenSnapshot } from '@keyward/backup-records';
import { CommitStore } from '@keyward/event-log';
import { refuseRootKcv, type BackupKeys } from './backup-keys';
import { silentProgress, type Progress } from './progress';
import type { SnapshotStore } from './snapshot-store';

export type BackupTrigger = SnapshotManifest['trigger'];

/** What a backup produced: the snapshot as the store records it, and what retention deleted. */
export interface BackupResult extends Omit<WrittenSnapshot, 'trigger'> {
  /** Older snapshots deleted by retention afterwards. */
  readonly pruned: readonly string[];
}

type KekDocument = Extract<KeystoreDocument, { kind: 'kek' }>;
type MaterialDocument = Extract<KeystoreDocument, { kind: 'material' }>;
type RootDocument = Extract<KeystoreDocument, { kind: 'root' }>;

const iso = (value: Date | string | undefined): string =>
  value instanceof Date ? value.toISOString() : (value ?? new Date(0).toISOString());
const base64 = (binary: { buffer: Uint8Array }): string => Buffer.from(binary.buffer).toString('base64');

/**
 * Takes one snapshot: the event-log position first, then one read of the keystore that streams the
 * DEK part (material, still wrapped by the tenant KEKs, and the hashed API keys) and collects the
 * KEK part (tenant KEKs, still wrapped by the root key), each through gzip and AES-256-GCM to its
 * own destination, and last the two signed manifests. Material is stored before the commit that
 * introduces it, so every version committed up to the recorded position is in the snapshot unless
 * it was destroyed since (the restore's replay deletes it again then).
 */
export class SnapshotTaker {
  constructor(
    private readonly db: Db,
    private readonly store: SnapshotStore,
    private readonly keys: BackupKeys,
    private readonly retain: number,
  ) {}

  async take(trigger: BackupTrigger, progress: Progress = silentProgress): Promise<BackupResult> {
    const started = performance.now();
    const created = new Date();
    const createdAt = created.toISOString();
    const snapshotId = newSnapshotId(created);
    const keystore = this.db.collection<KeystoreDocument>(KEYSTORE);
    const root = (await keystore.findOne({ _id: 'root' })) as RootDocument | null;
    refuseRootKcv(this.keys, root?.kcv ?? null);
    const positions = await this.positions();
    let kek: PartSummary;
    let dek: PartSummary;
    try {
      // One pass over the keystore: material streams into the DEK part while the KEKs (one per
      // tenant, few) are kept aside for the KEK part, so both parts come from one read.
      const keks: KekPartRecord[] = [];
      const credentials = this.db.collection<CredentialDocument>('credentials');
      // An estimate: an exact count costs a full scan on FerretDB.
      progress.stage('write DEK part', (await keystore.estimatedDocumentCount()) + (await credentials.estimatedDocumentCount()), 'records');
      dek = await this.writePart('dek', snapshotId, createdAt, this.dekRecords(keks, progress));
      progress.finish('write DEK part');
      progress.stage('write KEK part', keks.length + (root ? 1 : 0), 'records');
      const rootRecord: KekPartRecord[] = root ? [{ t: 'root', kcv: root.kcv, createdAt: iso(root.createdAt) }] : [];
      kek = await this.writePart('kek', snapshotId, createdAt, [...rootRecord, ...keks]);
      progress.advance('write KEK part', keks.length + rootRecord.length);
      progress.finish('write KEK part');
      const entry = (part: BackupPart, summary: PartSummary): PartEntry => ({
        object: partObject(part),
        bytes: summary.bytes,
        sha256: summary.sha256,
        contentSha256: summary.contentSha256,
        records: summary.records,
        keyFingerprint: summary.keyFingerprint,
      });
      const manifest: SnapshotManifest = {
        format: MANIFEST_FORMAT,
        snapshotId,
        createdAt,
        trigger,
        rootKcv: root?.kcv ?? null,
        positions,
        parts: { kek: entry('kek', kek), dek: entry('dek', dek) },
      };
      // The manifests go last: a snapshot without both is incomplete, never listed as restorable.
      await this.store.kek.putText(snapshotId, MANIFEST_OBJECT, encodeSignedManifest(signManifest(manifest, this.keys.kek, 'kek')));
      await this.store.dek.putText(snapshotId, MANIFEST_OBJECT, encodeSignedManifest(signManifest(manifest, this.keys.dek, 'dek')));
    } catch (err: unknown) {
      await Promise.allSettled([this.store.kek.remove(snapshotId), this.store.dek.remove(snapshotId)]);
      throw err;
    }
    const pruned = await this.store.prune(this.retain);
    return {
      snapshotId,
      createdAt,
      seconds: (performance.now() - started) / 1000,
      tenants: Object.keys(positions).length,
      parts: {
        kek: { destination: this.store.kek.description, bytes: kek.bytes, sha256: kek.sha256, records: kek.records },
        dek: { destination: this.store.dek.description, bytes: dek.bytes, sha256: dek.sha256, records: dek.records },
      },
      pruned,
    };
  }

  /**
   * The last commit (seq and hash) of every tenant's log: the tenants from their head hints, each
   * head by reads of `_id` (CommitStore.head), not a scan of the log per tenant.
   */
  private async positions(): Promise<Record<string, { seq: number; hash: string }>> {
    const store = new CommitStore(this.db);
    const tenants = await store.tenantIds();
    const heads = new Map<string, { seq: number; hash: string }>();
    // Eight tenants at a time; the positions keep the tenants' sorted order.
    const next = tenants.values();
    const worker = async (): Promise<void> => {
      for (let t = next.next(); !t.done; t = next.next()) {
        const head = await store.head(t.value);
        if (head) heads.set(t.value, { seq: head.seq, hash: head.hash });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const positions: Record<string, { seq: number; hash: string }> = {};
    for (const tenantId of tenants) {
      const head = heads.get(tenantId);
      if (head) positions[tenantId] = head;
    }
    return positions;
  }

  private async writePart(
    part: BackupPart,
    snapshotId: string,
    createdAt: string,
    records: AsyncIterable<KekPartRecord | DekPartRecord> | Iterable<KekPartRecord | DekPartRecord>,
  ): Promise<PartSummary> {
    const sealed = sealSnapshotPart(records, { backupKey: part === 'kek' ? this.keys.kek : this.keys.dek, part, snapshotId, createdAt });
    const stored = this.store.destination(part).put(snapshotId, partObject(part), sealed.body);
    // A failing destination also stops the producer (and the other way round).
    stored.catch((err: unknown) => sealed.body.destroy(err instanceof Error ? err : new Error(String(err))));
    const [summary] = await Promise.all([sealed.summary, stored]).catch((err: unknown) => {
      throw err instanceof Error ? new Error(`writing the ${PART_LABEL[part]} part: ${err.message}`, { cause: err }) : err;
    });
    return summary;
  }

  private async *dekRecords(keks: KekPartRecord[], progress: Progress): AsyncGenerator<DekPartRecord> {
    const cursor = this.db.collection<KeystoreDocument>(KEYSTORE).find({ kind: { $in: ['kek', 'material'] } }, { batchSize: 1000 });
    for await (const doc of cursor as AsyncIterable<KekDocument | MaterialDocument>) {
      progress.advance('write DEK part', 1);
      if (doc.kind === 'kek') {
        keks.push({ t: 'kek', tenantId: doc.tenantId, rootKcv: doc.rootKcv, sealed: base64(doc.sealed), createdAt: iso(doc.createdAt) });
        continue;
      }
      yield {
        t: 'material',
        tenantId: doc.tenantId,
        keyId: doc.keyId,
        version: doc.version,
        kcv: doc.kcv,
        sealed: base64(doc.sealed),
        createdAt: iso(doc.createdAt),
      };
    }
    for await (const doc of this.db.collection<CredentialDocument>('credentials').find({}, { batchSize: 1000 })) {
      yield { t: 'credential', doc: { ...doc } };
      progress.advance('write DEK part', 1);
    }
  }
}
