import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DomainError, type KeywardCommand } from '@keyward/domain';
import { CommandExecutor, Lease, ViewCollections } from '@keyward/event-log';
import { businessNow, MongoConnection } from '@keyward/platform';

const SYSTEM_ACTOR = { principalId: 'system:scheduler', role: 'tenant-admin' } as const;

/**
 * Enforces dates the server promised: destroys keys whose waiting period has passed, activates
 * keys on their activation date and deactivates them on their deactivation date. One instance
 * at a time (lease). Finds due keys in the views, decides against the log, so a stale view can
 * only delay an action, never cause a wrong one.
 */
@Injectable()
export class LifecycleScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('scheduler');
  private timer: NodeJS.Timeout | undefined;
  private readonly lease: Lease;
  private running: Promise<number> | undefined;

  constructor(
    private readonly executor: CommandExecutor,
    private readonly views: ViewCollections,
    mongo: MongoConnection,
  ) {
    this.lease = new Lease(mongo.db, 'scheduler', 30_000);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick().finally(() => (this.running = undefined));
    }, 10_000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async tick(now = businessNow()): Promise<number> {
    try {
      if (!(await this.lease.acquire(now.getTime()))) return 0;
      const iso = now.toISOString();
      const due = await this.views.keys
        .find(
          {
            $or: [
              { destroyAfter: { $ne: null, $lte: iso } },
              { state: 'PreActive', activationDate: { $ne: null, $lte: iso } },
              { state: { $in: ['PreActive', 'Active'] }, deactivationDate: { $ne: null, $lte: iso } },
            ],
          },
          { projection: { tenantId: 1, keyId: 1, state: 1, destroyAfter: 1, activationDate: 1, deactivationDate: 1 } },
        )
        .limit(500)
        .toArray();
      let done = 0;
      for (const key of due) {
        const command: KeywardCommand =
          key.destroyAfter !== null && key.destroyAfter <= iso
            ? { kind: 'key.destroy', keyId: key.keyId }
            : key.deactivationDate !== null && key.deactivationDate <= iso
              ? { kind: 'key.deactivate', keyId: key.keyId, reason: 'deactivation-date' }
              : { kind: 'key.activate', keyId: key.keyId, reason: 'activation-date' };
        try {
          await this.executor.execute(key.tenantId, command, { now, actor: SYSTEM_ACTOR, correlationId: `scheduler:${iso}` });
          done += 1;
        } catch (err: unknown) {
          if (!(err instanceof DomainError)) throw err; // already done, or no longer due
        }
      }
      if (done > 0) this.logger.log(`scheduler applied ${done} due lifecycle change(s)`);
      return done;
    } catch (err: unknown) {
      this.logger.warn(`scheduler pass failed: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
  }
}
