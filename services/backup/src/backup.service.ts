import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Cron } from 'croner';
import { randomBytes } from 'node:crypto';
import { MongoServerError } from 'mongodb';
import { Counter, Gauge } from 'prom-client';
import type { KeywardConfig } from '@keyward/config';
import { BackupRecords, failedReport, foundReport, writtenReport } from '@keyward/backup-records';
import { BackupError } from '@keyward/crypto';
import { KEYWARD_CONFIG, MetricsRegistry, MongoConnection, ProblemError } from '@keyward/platform';
import { configuredRootKey, loadBackupKeys, zeroKeys, type BackupKeys } from './core/backup-keys';
import { SnapshotStore, type SnapshotListing } from './core/snapshot-store';
import { SnapshotTaker, type BackupResult, type BackupTrigger } from './core/snapshot-taker';
import { openDestination } from './destinations/open-destination';

/** A refusal or failure of a backup as a problem document (our messages never hold secrets). */
export function backupProblem(err: unknown): unknown {
  if (!(err instanceof BackupError)) return err;
  const status = err.code === 'not-configured' ? 503 : err.code === 'key-reuse' ? 409 : 500;
  return new ProblemError(status, `backup-${err.code}`, 'Backup refused', err.message);
}

/**
 * Takes snapshots on demand and on the BACKUP_SCHEDULE, keeps BACKUP_RETAIN of them, and exposes
 * when the last one succeeded. One backup at a time per instance; with several instances, a
 * scheduled slot is taken by whichever inserts its marker first.
 */
@Injectable()
export class BackupService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('backup');
  private store: SnapshotStore | null = null;
  private keys: BackupKeys | null = null;
  private cron: Cron | undefined;
  private running: Promise<BackupResult> | null = null;
  private readonly lastSuccess: Gauge;
  private readonly lastDuration: Gauge;
  private readonly lastSize: Gauge<'part'>;
  private readonly runs: Counter<'trigger' | 'outcome'>;
  /** Each run, recorded in the store for key-api's provider-admin route (GET /v1/sys/backups). */
  readonly records: BackupRecords;

  constructor(
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
    private readonly mongo: MongoConnection,
    metrics: MetricsRegistry,
  ) {
    this.records = new BackupRecords(mongo.db);
    const registers = [metrics.registry];
    this.lastSuccess = new Gauge({
      name: 'keyward_backup_last_success_timestamp_seconds',
      help: 'When the newest complete snapshot was taken (Unix time); 0 when none is known',
      registers,
    });
    this.lastDuration = new Gauge({
      name: 'keyward_backup_last_duration_seconds',
      help: 'How long the last successful backup took',
      registers,
    });
    this.lastSize = new Gauge({
      name: 'keyward_backup_last_size_bytes',
      help: 'Size of each encrypted part of the last successful backup',
      labelNames: ['part'],
      registers,
    });
    this.runs = new Counter({
      name: 'keyward_backup_runs_total',
      help: 'Backups attempted, by trigger and outcome',
      labelNames: ['trigger', 'outcome'],
      registers,
    });
    this.lastSuccess.set(0);
  }

  onModuleInit(): void {
    const { destinations, keys } = this.config.backup;
    if (destinations === null) {
      this.logger.warn('backups are off: set BACKUP_KEK_DEST, BACKUP_DEK_DEST and their keys to turn them on');
      return;
    }
    const rootKey = configuredRootKey(this.config);
    try {
      this.keys = loadBackupKeys(keys, rootKey);
    } finally {
      rootKey?.fill(0);
    }
    this.store = new SnapshotStore(openDestination(destinations.kek), openDestination(destinations.dek));
    this.logger.log(
      `KEK snapshots to ${this.store.kek.description}, DEK snapshots to ${this.store.dek.description}; keeping ${this.config.backup.retain}`,
    );
  }

  onApplicationBootstrap(): void {
    if (this.store === null) return;
    const listedAt = new Date();
    void this.store.list(this.keys).then(
      async (listings) => {
        const newest = listings.find((l) => l.complete && l.createdAt !== null);
        if (newest?.createdAt) this.lastSuccess.set(Date.parse(newest.createdAt) / 1000);
        // Snapshots taken before (or by another instance, or the CLI) become readable by key-api; deleted ones go.
        await this.record(async () => {
          await this.records.ensureIndexes();
          await this.records.reconcile(
            listings.map((l) => foundReport(l)),
            listedAt,
          );
        });
      },
      (err: unknown) => this.logger.warn(`cannot list the existing snapshots yet: ${err instanceof Error ? err.message : String(err)}`),
    );
    const schedule = this.config.backup.schedule;
    if (schedule !== null) {
      this.cron = new Cron(schedule, { timezone: 'Etc/UTC', protect: true }, (self: Cron) =>
        this.scheduled(self.currentRun() ?? new Date()),
      );
      this.logger.log(`scheduled backups (UTC cron ${schedule}), next at ${this.cron.nextRun()?.toISOString() ?? 'never'}`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.cron?.stop();
    await this.running?.catch(() => undefined);
    this.store?.close();
    if (this.keys) zeroKeys(this.keys);
  }

  get configured(): boolean {
    return this.store !== null;
  }

  /** Takes a snapshot now; refuses while another runs in this instance. */
  async backupNow(trigger: BackupTrigger): Promise<BackupResult> {
    const { store, keys } = this.ready();
    if (this.running)
      throw new ProblemError(409, 'backup-in-progress', 'Backup in progress', 'a backup is already running; try again when it ends');
    const taker = new SnapshotTaker(this.mongo.db, store, keys, this.config.backup.retain);
    this.running = taker.take(trigger);
    const started = new Date();
    try {
      const result = await this.running;
      this.runs.inc({ trigger, outcome: 'success' });
      this.lastSuccess.set(Date.parse(result.createdAt) / 1000);
      this.lastDuration.set(result.seconds);
      this.lastSize.set({ part: 'kek' }, result.parts.kek.bytes);
      this.lastSize.set({ part: 'dek' }, result.parts.dek.bytes);
      const records = { ...result.parts.kek.records, ...result.parts.dek.records };
      this.logger.log(
        `snapshot ${result.snapshotId} (${trigger}): ${records.kek ?? 0} KEK(s), ${records.material ?? 0} piece(s) of material, ` +
          `${result.parts.kek.bytes + result.parts.dek.bytes} bytes in ${result.seconds.toFixed(2)} s` +
          (result.pruned.length > 0 ? `; retention deleted ${result.pruned.join(', ')}` : ''),
      );
      await this.record(() => this.records.record(writtenReport({ ...result, trigger })));
      await this.record(() => this.records.forget(result.pruned));
      return result;
    } catch (err: unknown) {
      this.runs.inc({ trigger, outcome: 'failure' });
      const message = err instanceof Error ? err.message : String(err);
      this.logger.error(`backup (${trigger}) failed: ${message}`);
      await this.record(() => this.records.record(failedReport(trigger, message, started, randomBytes(4).toString('hex'))));
      throw backupProblem(err);
    } finally {
      this.running = null;
    }
  }

  async list(): Promise<SnapshotListing[]> {
    const { store, keys } = this.ready();
    return store.list(keys);
  }

  /** A record that cannot be written is logged; the backup itself stands (or failed) regardless. */
  private async record(write: () => Promise<void>): Promise<void> {
    await write().catch((err: unknown) =>
      this.logger.warn(`cannot record the backup run in the store: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** The destinations and keys, for the verification worker; null when backups are off. */
  get verifier(): { store: SnapshotStore; keys: BackupKeys } | null {
    return this.store === null || this.keys === null ? null : { store: this.store, keys: this.keys };
  }

  private ready(): { store: SnapshotStore; keys: BackupKeys } {
    if (this.store === null || this.keys === null) {
      throw new ProblemError(503, 'backup-not-configured', 'Backups are off', 'set BACKUP_KEK_DEST, BACKUP_DEK_DEST and their backup keys');
    }
    return { store: this.store, keys: this.keys };
  }

  /** One instance takes each scheduled run: the first to insert its marker (markers older than a week are dropped). */
  private async scheduled(run: Date): Promise<void> {
    const runs = this.mongo.db.collection<{ _id: string; at: Date }>('backup_runs');
    const slot = new Date(Math.floor(run.getTime() / 1000) * 1000).toISOString();
    try {
      await runs.insertOne({ _id: `schedule:${slot}`, at: new Date() });
      await runs.deleteMany({ at: { $lt: new Date(Date.now() - 7 * 86_400_000) } });
    } catch (err: unknown) {
      if (err instanceof MongoServerError && err.code === 11000) return;
      this.logger.error(`scheduled backup skipped: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    await this.backupNow('schedule').catch(() => undefined);
  }
}
