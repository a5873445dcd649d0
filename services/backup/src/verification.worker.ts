import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { failedOutcome, type BackupVerificationDocument, type VerificationOutcome } from '@keyward/backup-records';
import { BackupService } from './backup.service';
import { verifySnapshot } from './core/snapshot-verifier';

/** How often an idle instance looks for a verification request key-api filed. */
const POLL_MS = 2_000;

/**
 * Answers the verification requests key-api files (POST /v1/sys/backups/{id}/verifications): this
 * service holds the backup keys, so it verifies, with the very code `keyward-backup backup verify`
 * runs (both manifests' signatures, every chunk authenticated up to the final one, sizes, digests
 * and counts against the manifest), and records the outcome in the store. One at a time per instance;
 * with several instances, each request is claimed by one.
 */
@Injectable()
export class VerificationWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('backup-verify');
  private readonly worker = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly backups: BackupService) {}

  onApplicationBootstrap(): void {
    if (!this.backups.configured) return;
    this.schedule(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = this.drain().finally(() => {
        this.current = null;
        this.schedule(POLL_MS);
      });
    }, ms);
    this.timer.unref();
  }

  /** Verifies the waiting requests one after another, until none waits. */
  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (this.stopped) return;
        const request = await this.backups.records.claimVerification(this.worker);
        if (request === null) return;
        await this.answer(request);
      }
    } catch (err: unknown) {
      this.logger.warn(`cannot read verification requests: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async answer(request: BackupVerificationDocument): Promise<void> {
    const outcome = await this.verify(request.snapshotId);
    await this.backups.records.finishVerification(request._id, this.worker, outcome);
    if (outcome.status === 'verified') this.logger.log(`snapshot ${request.snapshotId} verified (${request._id})`);
    else this.logger.warn(`snapshot ${request.snapshotId} failed verification (${request._id}): ${outcome.code}: ${outcome.detail}`);
  }

  private async verify(snapshotId: string): Promise<VerificationOutcome> {
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    const verifier = this.backups.verifier;
    if (verifier === null) return failedOutcome(new Error('backups are off on this instance'), seconds());
    try {
      const report = await verifySnapshot(verifier.store, snapshotId, { keys: verifier.keys });
      const part = (p: (typeof report.parts)['kek']) => ({ bytes: p.bytes, sha256: p.sha256, records: { ...p.records } });
      return { status: 'verified', parts: { kek: part(report.parts.kek), dek: part(report.parts.dek) }, seconds: seconds() };
    } catch (err: unknown) {
      return failedOutcome(err, seconds());
    }
  }
}
