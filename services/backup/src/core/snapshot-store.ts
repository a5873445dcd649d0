import {
  BackupError,
  checkPair,
  MANIFEST_OBJECT,
  parseSignedManifest,
  PART_LABEL,
  partObject,
  verifyManifest,
  type BackupPart,
  type SignedManifest,
  type SnapshotManifest,
} from '@keyward/crypto';
import type { FoundSnapshot } from '@keyward/backup-records';
import type { BackupDestination } from '../destinations/destination';
import type { BackupKeys } from './backup-keys';

/** One snapshot as the listing shows it (the shape the store's records are made from). */
export type SnapshotListing = FoundSnapshot;

/** Both destinations of a deployment: listing, manifests and retention. */
export class SnapshotStore {
  constructor(
    readonly kek: BackupDestination,
    readonly dek: BackupDestination,
  ) {}

  destination(part: BackupPart): BackupDestination {
    return part === 'kek' ? this.kek : this.dek;
  }

  describe(part: BackupPart, snapshotId: string): string {
    return `the ${PART_LABEL[part]} manifest of snapshot ${snapshotId} (${this.destination(part).where(snapshotId, MANIFEST_OBJECT)})`;
  }

  /** The manifest stored beside one part, signature checked with that part's key. */
  async manifest(part: BackupPart, snapshotId: string, keys: BackupKeys): Promise<SignedManifest> {
    const destination = this.destination(part);
    const text = await destination.getText(snapshotId, MANIFEST_OBJECT);
    const what = this.describe(part, snapshotId);
    if (text === null) {
      const stored = (await destination.list()).find((s) => s.snapshotId === snapshotId);
      throw new BackupError(
        'missing-part',
        stored === undefined
          ? `the ${PART_LABEL[part]} part of snapshot ${snapshotId} is missing: ${destination.description} holds no such snapshot`
          : `the ${PART_LABEL[part]} part of snapshot ${snapshotId} is incomplete: ${destination.where(snapshotId, MANIFEST_OBJECT)} is missing`,
      );
    }
    const signed = parseSignedManifest(text, what);
    verifyManifest(signed, part, { backupKey: part === 'kek' ? keys.kek : keys.dek, otherKey: part === 'kek' ? keys.dek : keys.kek }, what);
    if (signed.manifest.snapshotId !== snapshotId) {
      throw new BackupError(
        'mismatched-pair',
        `${what} describes snapshot ${signed.manifest.snapshotId}, not ${snapshotId}: it was moved from another snapshot`,
      );
    }
    return signed;
  }

  /** Both manifests, verified, and checked to describe one snapshot. */
  async pair(snapshotId: string, keys: BackupKeys, dekSnapshotId: string = snapshotId): Promise<SnapshotManifest> {
    const kek = await this.manifest('kek', snapshotId, keys);
    const dek = await this.manifest('dek', dekSnapshotId, keys);
    return checkPair(kek, dek);
  }

  /** Every snapshot in either destination, newest first; with keys, signatures and pairing are checked. */
  async list(keys: BackupKeys | null): Promise<SnapshotListing[]> {
    const [kekStored, dekStored] = await Promise.all([this.kek.list(), this.dek.list()]);
    const objects = (stored: typeof kekStored, id: string) => stored.find((s) => s.snapshotId === id)?.objects ?? [];
    const ids = [...new Set([...kekStored, ...dekStored].map((s) => s.snapshotId))].sort().reverse();
    const listings: SnapshotListing[] = [];
    for (const snapshotId of ids) {
      const present = {
        kek: objects(kekStored, snapshotId).includes(partObject('kek')),
        dek: objects(dekStored, snapshotId).includes(partObject('dek')),
      };
      let manifest: SnapshotManifest | null = null;
      let problem: string | null = null;
      try {
        if (keys !== null) manifest = await this.pair(snapshotId, keys);
        else {
          const text = await this.kek.getText(snapshotId, MANIFEST_OBJECT);
          if (text === null) throw new BackupError('missing-part', `the KEK manifest of snapshot ${snapshotId} is missing`);
          manifest = parseSignedManifest(text, this.describe('kek', snapshotId)).manifest;
          problem = 'signatures not checked (no backup keys here)';
        }
        for (const part of ['kek', 'dek'] as const) {
          if (!present[part]) throw new BackupError('missing-part', `the ${PART_LABEL[part]} part of snapshot ${snapshotId} is missing`);
        }
      } catch (err: unknown) {
        problem = err instanceof Error ? err.message : String(err);
      }
      listings.push({
        snapshotId,
        createdAt: manifest?.createdAt ?? null,
        trigger: manifest?.trigger ?? null,
        complete: problem === null,
        problem,
        tenants: manifest ? Object.keys(manifest.positions).length : null,
        records: manifest ? { ...manifest.parts.kek.records, ...manifest.parts.dek.records } : {},
        parts: {
          kek: {
            destination: this.kek.description,
            bytes: manifest?.parts.kek.bytes ?? null,
            sha256: manifest?.parts.kek.sha256 ?? null,
            present: present.kek,
          },
          dek: {
            destination: this.dek.description,
            bytes: manifest?.parts.dek.bytes ?? null,
            sha256: manifest?.parts.dek.sha256 ?? null,
            present: present.dek,
          },
        },
      });
    }
    return listings;
  }

  /**
   * Keeps the newest `retain` complete snapshots (both manifests present) in each destination and
   * deletes the older ones, and leftovers of failed backups older than the oldest one kept.
   * Destroyed material that an expired snapshot still held goes with it.
   */
  async prune(retain: number): Promise<string[]> {
    const [kekStored, dekStored] = await Promise.all([this.kek.list(), this.dek.list()]);
    const hasManifest = (stored: typeof kekStored) =>
      new Set(stored.filter((s) => s.objects.includes(MANIFEST_OBJECT)).map((s) => s.snapshotId));
    const kekDone = hasManifest(kekStored);
    const dekDone = hasManifest(dekStored);
    const complete = [...kekDone]
      .filter((id) => dekDone.has(id))
      .sort()
      .reverse();
    const kept = new Set(complete.slice(0, retain));
    const oldestKept = complete.slice(0, retain).at(-1);
    if (oldestKept === undefined) return [];
    const doomed = new Set<string>();
    for (const stored of [...kekStored, ...dekStored]) {
      if (kept.has(stored.snapshotId)) continue;
      if (complete.includes(stored.snapshotId) || stored.snapshotId < oldestKept) doomed.add(stored.snapshotId);
    }
    for (const snapshotId of doomed) {
      if (kekStored.some((s) => s.snapshotId === snapshotId)) await this.kek.remove(snapshotId);
      if (dekStored.some((s) => s.snapshotId === snapshotId)) await this.dek.remove(snapshotId);
    }
    return [...doomed].sort();
  }

  close(): void {
    this.kek.close();
    this.dek.close();
  }
}
