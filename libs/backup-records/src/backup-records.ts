import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { BACKUP_REPORTS, type BackupReportDocument } from './backup-report';
import {
  BACKUP_VERIFICATIONS,
  STALE_CLAIM_MS,
  VERIFICATIONS_KEPT,
  type BackupVerificationDocument,
  type VerificationOutcome,
} from './backup-verification';

/**
 * The store both sides of the backup facts use: the backup service records its runs and answers
 * verification requests; key-api reads the runs and files requests. Neither needs the other's code,
 * and key-api never holds a backup key: it only asks, the backup service verifies.
 */
export class BackupRecords {
  readonly reports: Collection<BackupReportDocument>;
  readonly verifications: Collection<BackupVerificationDocument>;

  constructor(db: Db) {
    this.reports = db.collection<BackupReportDocument>(BACKUP_REPORTS);
    this.verifications = db.collection<BackupVerificationDocument>(BACKUP_VERIFICATIONS);
  }

  async ensureIndexes(): Promise<void> {
    await this.reports.createIndex({ at: -1 });
    await this.verifications.createIndex({ status: 1, requestedAt: 1 });
    await this.verifications.createIndex({ snapshotId: 1, requestedAt: -1 });
  }

  // --- runs (written by the backup service) ---

  async record(report: BackupReportDocument): Promise<void> {
    const { _id, ...rest } = report;
    await this.reports.replaceOne({ _id }, rest, { upsert: true });
  }

  /**
   * Makes the records match the snapshots found in the destinations (listed from `listedAt` on): adds
   * the missing ones, drops those of snapshots gone (written before the listing began).
   */
  async reconcile(found: readonly BackupReportDocument[], listedAt: Date): Promise<void> {
    const ids = found.map((r) => r._id);
    await this.reports.deleteMany({ snapshotId: { $ne: null, $nin: ids }, at: { $lt: listedAt } });
    const known = new Set((await this.reports.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray()).map((r) => r._id));
    for (const report of found) if (!known.has(report._id) || report.outcome !== 'success') await this.record(report);
  }

  /** Snapshots deleted by retention. */
  async forget(snapshotIds: readonly string[]): Promise<void> {
    if (snapshotIds.length === 0) return;
    await this.reports.deleteMany({ _id: { $in: [...snapshotIds] } });
    await this.verifications.deleteMany({ snapshotId: { $in: [...snapshotIds] } });
  }

  // --- runs (read by key-api) ---

  /** The newest runs first. */
  recent(limit: number): Promise<BackupReportDocument[]> {
    return this.reports.find({}).sort({ at: -1 }).limit(limit).toArray();
  }

  lastSuccess(): Promise<BackupReportDocument | null> {
    return this.reports.findOne({ outcome: 'success' }, { sort: { at: -1 } });
  }

  snapshot(snapshotId: string): Promise<BackupReportDocument | null> {
    return this.reports.findOne({ _id: snapshotId, snapshotId });
  }

  // --- verifications ---

  /** Files a request (key-api); the backup service picks it up. Older outcomes of the snapshot beyond VERIFICATIONS_KEPT go. */
  async requestVerification(
    snapshotId: string,
    by: { principalId: string; role: string },
    now = new Date(),
  ): Promise<BackupVerificationDocument> {
    const request: BackupVerificationDocument = {
      _id: `vf-${randomUUID()}`,
      snapshotId,
      status: 'pending',
      requestedAt: now,
      requestedBy: { principalId: by.principalId, role: by.role },
    };
    await this.verifications.insertOne(request);
    const old = await this.verifications
      .find({ snapshotId }, { projection: { _id: 1 } })
      .sort({ requestedAt: -1 })
      .skip(VERIFICATIONS_KEPT)
      .toArray();
    if (old.length > 0) await this.verifications.deleteMany({ _id: { $in: old.map((v) => v._id) } });
    return request;
  }

  /** The oldest pending request, or one whose claim went stale, now claimed by `worker`; null when none waits. */
  async claimVerification(worker: string, now = new Date()): Promise<BackupVerificationDocument | null> {
    return this.verifications.findOneAndUpdate(
      { $or: [{ status: 'pending' }, { status: 'running', claimedAt: { $lt: new Date(now.getTime() - STALE_CLAIM_MS) } }] },
      { $set: { status: 'running', claimedBy: worker, claimedAt: now } },
      { sort: { requestedAt: 1 }, returnDocument: 'after' },
    );
  }

  /** Records the outcome, if `worker` still holds the claim. */
  async finishVerification(id: string, worker: string, outcome: VerificationOutcome, now = new Date()): Promise<boolean> {
    const set =
      outcome.status === 'verified'
        ? { status: outcome.status, parts: outcome.parts, seconds: outcome.seconds, finishedAt: now }
        : { status: outcome.status, code: outcome.code, detail: outcome.detail, seconds: outcome.seconds, finishedAt: now };
    const done = await this.verifications.updateOne({ _id: id, status: 'running', claimedBy: worker }, { $set: set });
    return done.modifiedCount === 1;
  }

  verification(snapshotId: string, id: string): Promise<BackupVerificationDocument | null> {
    return this.verifications.findOne({ _id: id, snapshotId });
  }

  /** The verifications of one snapshot, newest first. */
  verificationsOf(snapshotId: string): Promise<BackupVerificationDocument[]> {
    return this.verifications.find({ snapshotId }).sort({ requestedAt: -1 }).limit(VERIFICATIONS_KEPT).toArray();
  }

  /** The newest verification of each of these snapshots. */
  async latestVerifications(snapshotIds: readonly string[]): Promise<Map<string, BackupVerificationDocument>> {
    const latest = new Map<string, BackupVerificationDocument>();
    if (snapshotIds.length === 0) return latest;
    const all = await this.verifications
      .find({ snapshotId: { $in: [...snapshotIds] } })
      .sort({ requestedAt: -1 })
      .toArray();
    for (const v of all) if (!latest.has(v.snapshotId)) latest.set(v.snapshotId, v);
    return latest;
  }
}
