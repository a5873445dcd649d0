import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { DomainError, isDestroyed, type KeyState } from '@keyward/domain';
import {
  CommandExecutor,
  dueComplete,
  isDueView,
  Lease,
  PENDING_DATES_FILTER,
  pendingDates,
  ViewCollections,
  type DueDocument,
} from '@keyward/event-log';
import { businessNow, MongoConnection } from '@keyward/platform';
import { EventStreamListener } from '@keyward/keys';
import { ApplyDueChangeCommand } from './apply-due-change.handler';
import { LifecycleAgenda, type DueItem } from './lifecycle-agenda';

const TICK_MS = 10_000;
/** Most actions one pass takes (the rest wait for the next pass). */
const PER_PASS = 500;
/** The agenda is filled from the views once the stream is followed, and once more this long after (commits made before the stream was joined and projected late). */
const REFILL_AFTER_MS = 60_000;

const commandFor = (item: DueItem): ApplyDueChangeCommand['command'] =>
  item.kind === 'destroy'
    ? { kind: 'key.destroy', keyId: item.keyId }
    : item.kind === 'deactivate'
      ? { kind: 'key.deactivate', keyId: item.keyId, reason: 'deactivation-date' }
      : { kind: 'key.activate', keyId: item.keyId, reason: 'activation-date' };

/** Whether the log still calls for the action at `iso` (a refused action that is still due is tried again next pass). */
export function stillDue(key: KeyState | undefined, item: DueItem, iso: string): boolean {
  if (key === undefined) return false;
  switch (item.kind) {
    case 'destroy':
      return !isDestroyed(key.state) && key.destroyAfter !== null && key.destroyAfter <= iso;
    case 'deactivate':
      return (key.state === 'PreActive' || key.state === 'Active') && key.deactivationDate !== null && key.deactivationDate <= iso;
    case 'activate':
      return key.state === 'PreActive' && key.activationDate !== null && key.activationDate <= iso;
  }
}

/**
 * Enforces dates the server promised: destroys keys whose waiting period has passed, activates
 * keys on their activation date and deactivates them on their deactivation date. One instance at a
 * time (lease). What is due comes from an agenda in memory (every instance keeps one, fed by
 * keyward.events and filled from the key views once at start), so a pass reads nothing when nothing
 * is due; each action is decided against the log, so a stale agenda can only delay an action or
 * cost a refused decision, never cause a wrong one, and a second instance that believes it holds
 * the lease is refused by the log (unique commit ids) rather than acting twice.
 */
@Injectable()
export class LifecycleScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('scheduler');
  private timer: NodeJS.Timeout | undefined;
  private fillTimer: NodeJS.Timeout | undefined;
  private readonly lease: Lease;
  private running: Promise<number> | undefined;
  private stopped = false;
  readonly agenda = new LifecycleAgenda();

  constructor(
    private readonly commands: CommandBus,
    private readonly executor: CommandExecutor,
    private readonly views: ViewCollections,
    private readonly stream: EventStreamListener,
    mongo: MongoConnection,
  ) {
    this.lease = new Lease(mongo.db, 'scheduler', 30_000);
  }

  onApplicationBootstrap(): void {
    this.stream.onCommit((commit) => this.agenda.noteCommit(commit));
    void this.fillOnceFollowing();
    this.timer = setInterval(() => {
      this.running ??= this.tick().finally(() => (this.running = undefined));
    }, TICK_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.fillTimer);
    await this.running;
  }

  /** Fills the agenda from the views once the stream is followed (so nothing committed after the read is missed), and once more later. */
  private async fillOnceFollowing(): Promise<void> {
    while (!this.stream.joined && !this.stopped) await new Promise((r) => setTimeout(r, 500).unref());
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.fillFromViews();
        break;
      } catch (err: unknown) {
        this.logger.warn(`cannot read the key views for the scheduler yet: ${err instanceof Error ? err.message : String(err)}`);
        await new Promise((r) => setTimeout(r, Math.min(30_000, 1_000 * 2 ** attempt)).unref());
      }
    }
    if (this.stopped) return;
    this.fillTimer = setTimeout(() => void this.fillFromViews().catch(() => undefined), REFILL_AFTER_MS);
    this.fillTimer.unref();
  }

  /**
   * Every pending date the views know of (at start only: the stream keeps the agenda current
   * afterwards): the projector's view_due, one document per key with a pending date, so a start
   * costs the keys that have one. Until a projector has backfilled view_due (a store projected
   * before it existed), the key views themselves: a scan of every key view on FerretDB.
   */
  async fillFromViews(): Promise<number> {
    const projection = { tenantId: 1, keyId: 1, state: 1, destroyAfter: 1, activationDate: 1, deactivationDate: 1 } as const;
    const cursor = (await dueComplete(this.views))
      ? this.views.due.find({}, { projection, batchSize: 1_000 })
      : this.views.keys.find(PENDING_DATES_FILTER as object, { projection, batchSize: 1_000 });
    let noted = 0;
    for await (const key of cursor as AsyncIterable<DueDocument>) {
      if (!isDueView(key)) continue;
      const { tenantId, keyId } = key;
      for (const { kind, at } of pendingDates(key)) this.agenda.note({ tenantId, keyId, kind, at });
      noted += 1;
    }
    return noted;
  }

  async tick(now = businessNow()): Promise<number> {
    try {
      const iso = now.toISOString();
      const due = this.agenda.due(iso, PER_PASS);
      if (due.length === 0) return 0; // nothing due: no store round trip at all
      // The lease fences processes in wall-clock time, whatever business clock decides what is due.
      if (!(await this.lease.acquire())) return 0;
      let done = 0;
      for (const item of due) {
        try {
          await this.commands.execute(new ApplyDueChangeCommand(item.tenantId, commandFor(item), now, `scheduler:${iso}`));
          done += 1;
        } catch (err: unknown) {
          if (!(err instanceof DomainError)) throw err; // kept: tried again next pass
          // Refused: forget it when already done or no longer due (the log decides), else try again next pass (a suspended tenant).
          if (stillDue(this.executor.peek(item.tenantId)?.keys.get(item.keyId), item, iso)) continue;
        }
        this.agenda.drop(item.tenantId, item.keyId, [item.kind]);
      }
      if (done > 0) this.logger.log(`scheduler applied ${done} due lifecycle change(s)`);
      return done;
    } catch (err: unknown) {
      this.logger.warn(`scheduler pass failed: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
  }
}
