import { UsageBacklog, type BacklogLimits, type TenantBatch } from './usage-backlog';
import type { OutboxBatch } from './usage-outbox';

interface Tenanted {
  readonly tenantId: string;
}

/** Where records go first: the usage topic. */
export interface UsageTopic<R> {
  /** A cheap round trip to the broker, before anything is read from the outbox for it. */
  probe(): Promise<void>;
  /** Sends the batches (one message each, in the order given); throws when the broker did not take them all. */
  send(batches: readonly TenantBatch<R>[]): Promise<void>;
  /** Forgets the connection after a failure. */
  reset(): Promise<void>;
}

/** Where records go while the topic is away: the outbox (see usage-outbox.ts). */
export interface UsageStore<R> {
  insert(batches: readonly OutboxBatch<R>[]): Promise<void>;
  /** The ids of the oldest `limit` batches of every instance: the sweep (a collection scan on the embedded store). */
  oldestIds(limit: number): Promise<string[]>;
  /** The batches with these ids still stored, in the order given: reads by `_id`. */
  byIds(ids: readonly string[]): Promise<OutboxBatch<R>[]>;
  remove(ids: readonly string[]): Promise<void>;
}

export interface PipelineOptions extends BacklogLimits {
  /** Records of one tenant this instance keeps in the outbox (0: no outbox). */
  readonly outboxMax: number;
  /** Most records one flush takes from memory. */
  readonly batchMax: number;
  /** Outbox batches one drain round reads. */
  readonly drainBatches: number;
  /** How often the outbox is read for batches of other (stopped or crashed) instances. */
  readonly sweepMs: number;
  /** How long a send to the topic may take before it counts as the topic being away: memory goes to the outbox. */
  readonly spillAfterMs: number;
  /** Unique among instances, sorting by start time (see OutboxBatch). */
  readonly instance: string;
  readonly now: () => number;
}

/** What the pipeline reports, for metrics and logs. */
export interface PipelineEvents {
  sent(records: number): void;
  outboxed(records: number): void;
  drained(records: number): void;
  dropped(records: number): void;
  warn(message: string): void;
}

/** One of this instance's batches on its way to (or in) the outbox. */
interface OwnBatch {
  readonly tenantId: string;
  readonly records: number;
  /** When its insert completed (undefined while under way). */
  stored?: number;
}

const MAX_BACKOFF_MS = 5_000;
/** Most records of one batch (about 150 KiB in the outbox): what a drain round holds in memory stays small. */
export const RECORDS_PER_OUTBOX_BATCH = 500;
/** Batch ids one sweep reads (ids only: a few hundred KiB at most). */
const SWEEP_IDS_MAX = 10_000;
/** Rounds of `drainBatches` one drain takes before memory gets its turn again. */
const DRAIN_ROUNDS = 10;
const MIN_BACKOFF_MS = 250;

/**
 * Moves usage records from memory to the usage topic, or to the outbox while the topic is away,
 * and from the outbox to the topic once it is back. Two lanes, each one operation at a time:
 *
 * - the topic lane drains the outbox (oldest first, then deletes), then sends what memory holds of
 *   tenants with nothing in the outbox; a batch the topic refuses goes to the outbox;
 * - the outbox lane stores what memory holds only while the topic is away, or memory is filling
 *   up (see `spilling`): a topic that is slow but answering keeps records in memory, within its
 *   bounds, for the next send.
 *
 * Order per tenant: a tenant's records go to the topic directly only while none of them is in
 * the outbox (or on its way there); batches get their outbox id when taken from memory, so a batch
 * the topic refused later still sorts before newer ones. Delivery is at least once: a crash
 * between sending drained batches and deleting them, or two instances draining at once, send a
 * batch twice; readers de-duplicate by request id.
 */
export class UsagePipeline<R extends Tenanted> {
  readonly backlog: UsageBacklog<R>;
  private seq = 0;
  private readonly own = new Map<string, OwnBatch>();
  private readonly outboxedBy = new Map<string, number>();
  private topicUp = true;
  private backoffMs = MIN_BACKOFF_MS;
  private retryAt = 0;
  private nextSweep = 0;
  private topicLane: Promise<void> | undefined;
  /** When the send under way to the topic started (undefined: none). */
  private sendingSince: number | undefined;
  private outboxLane: Promise<void> | undefined;
  private closing = false;
  /** Rejects once a stop has waited long enough for the topic: a send not done by then counts as failed. */
  private readonly stopWaiting: Promise<never>;
  private giveUp: (err: Error) => void = () => undefined;

  constructor(
    private readonly options: PipelineOptions,
    private readonly topic: UsageTopic<R>,
    private readonly store: UsageStore<R> | undefined,
    private readonly events: PipelineEvents,
  ) {
    this.backlog = new UsageBacklog<R>(options);
    this.stopWaiting = new Promise<never>((_, reject) => (this.giveUp = reject));
    this.stopWaiting.catch(() => undefined);
  }

  /** Whether an operation of `tenantId` may run (see UsageBacklog.admits). */
  admits(tenantId: string): boolean {
    return this.backlog.admits(tenantId);
  }

  record(record: R): void {
    const dropped = this.backlog.push(record);
    if (dropped > 0) this.events.dropped(dropped);
  }

  /** Whether the topic took the last thing sent to it. */
  get topicAvailable(): boolean {
    return this.topicUp;
  }

  /** Records of this instance in the outbox, or on their way there. */
  get outboxRecords(): number {
    let n = 0;
    for (const count of this.outboxedBy.values()) n += count;
    return n;
  }

  /** One flush: starts each lane that is idle; resolves when the lanes it started are done. */
  tick(): Promise<void> {
    const started: Promise<void>[] = [];
    if (this.topicLane === undefined) {
      this.topicLane = this.topicWork().finally(() => (this.topicLane = undefined));
      started.push(this.topicLane);
    }
    if (this.outboxLane === undefined) {
      const spilling = this.spilling();
      this.outboxLane = this.spill((tenantId) => (spilling(tenantId) ? this.outboxRoom(tenantId) : 0)).finally(
        () => (this.outboxLane = undefined),
      );
      started.push(this.outboxLane);
    }
    return Promise.all(started).then(() => undefined);
  }

  /**
   * Which tenants' memory goes to the outbox now: every tenant's while the topic is away (a send or
   * probe failed, or a send has been under way for `spillAfterMs`) or all memory is three quarters
   * full; a tenant's own when its memory is three quarters full (before admission would refuse it),
   * or, at a stop, when it has batches in the outbox (the order). A topic that is merely slow keeps
   * records in memory: spilling them would cost the store a write and a read each, and keep the
   * tenant on the outbox path (its newer records wait for its outboxed ones) while the load lasts.
   * A tenant with batches in the outbox otherwise waits in memory until the topic lane has drained
   * them, then goes to the topic directly again.
   */
  private spilling(): (tenantId: string) => boolean {
    const stalled = this.sendingSince !== undefined && this.options.now() - this.sendingSince >= this.options.spillAfterMs;
    const full = (n: number, max: number) => n * 4 >= max * 3;
    const everyone = !this.topicUp || stalled || full(this.backlog.size, this.options.totalMax);
    return (tenantId) =>
      everyone || full(this.backlog.sizeOf(tenantId), this.options.tenantMax) || (this.closing && this.outboxedBy.has(tenantId));
  }

  /**
   * Graceful stop: no more outbox reads; memory goes to the topic, or to the outbox, until empty or
   * `deadline`. Returns the records left in memory.
   */
  async close(deadline: number): Promise<number> {
    this.closing = true;
    this.retryAt = 0;
    // Sends (also one under way) not acknowledged within half the time left count as failed: their
    // records go to the outbox, and may reach the topic twice.
    // While the topic is known to be away, nothing is waited for.
    const giveUp = setTimeout(
      () => this.giveUp(new Error('the usage topic did not answer before the stop')),
      this.topicUp ? Math.max(0, (deadline - this.options.now()) / 2) : 0,
    );
    giveUp.unref();
    while (this.options.now() < deadline) {
      await within(this.tick(), deadline - this.options.now());
      if (this.backlog.size === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await within(Promise.all([this.topicLane, this.outboxLane]), Math.max(0, deadline - this.options.now()));
    return this.backlog.size;
  }

  private outboxRoom(tenantId: string): number {
    if (this.store === undefined) return 0;
    return Math.max(0, this.options.outboxMax - (this.outboxedBy.get(tenantId) ?? 0));
  }

  private async topicWork(): Promise<void> {
    if (!this.topicUp) {
      if (this.options.now() < this.retryAt) return;
      try {
        await Promise.race([this.topic.probe(), this.stopWaiting]);
      } catch (err: unknown) {
        this.topicFailed(err);
        return;
      }
    }
    if (!this.closing && this.store !== undefined && (this.outboxedBy.size > 0 || this.options.now() >= this.nextSweep)) {
      if (!(await this.drain(this.store))) return;
    }
    const batches = this.chunked(this.backlog.take(this.options.batchMax, (t) => (this.outboxedBy.has(t) ? 0 : Infinity)));
    if (batches.length === 0) {
      this.topicRecovered();
      return;
    }
    try {
      await this.send(batches);
      this.topicRecovered();
      this.events.sent(count(batches));
    } catch (err: unknown) {
      this.topicFailed(err);
      // Beyond the outbox share if need be: newer records of these tenants may have been spilled to
      // the outbox while this send was under way, and only stored under their own (older) ids do
      // these batches still reach the topic before them. Exceeds the share by one send at most.
      await this.toOutbox(batches, true);
    }
  }

  /** Sends to the topic, unless a stop gives up waiting first. */
  private async send(batches: readonly TenantBatch<R>[]): Promise<void> {
    this.sendingSince = this.options.now();
    try {
      await Promise.race([this.topic.send(batches), this.stopWaiting]);
    } finally {
      this.sendingSince = undefined;
    }
  }

  /** Memory → outbox for the tenants `capOf` allows. */
  private async spill(capOf: (tenantId: string) => number): Promise<void> {
    const batches = this.chunked(this.backlog.take(this.options.batchMax, capOf));
    await this.toOutbox(batches);
  }

  private async toOutbox(batches: readonly OutboxBatch<R>[], beyondShare = false): Promise<void> {
    if (batches.length === 0) return;
    const store = this.store;
    const room = new Map<string, number>();
    const storable: OutboxBatch<R>[] = [];
    const kept: OutboxBatch<R>[] = [];
    for (const batch of batches) {
      const left = room.get(batch.tenantId) ?? this.outboxRoom(batch.tenantId);
      if (store !== undefined && (beyondShare || left >= batch.records.length)) {
        storable.push(batch);
        room.set(batch.tenantId, left - batch.records.length);
      } else {
        kept.push(batch);
      }
    }
    for (const batch of storable) this.own.set(batch._id, { tenantId: batch.tenantId, records: batch.records.length });
    for (const batch of storable) this.addOutboxed(batch.tenantId, batch.records.length);
    try {
      if (store !== undefined) await store.insert(storable);
      const stored = this.options.now();
      for (const batch of storable) {
        const own = this.own.get(batch._id);
        if (own) own.stored = stored;
      }
      if (storable.length > 0) this.events.outboxed(count(storable));
    } catch (err: unknown) {
      for (const batch of storable) this.forget(batch._id);
      kept.unshift(...storable);
      this.events.warn(`cannot store ${count(storable)} usage records in the outbox (${message(err)})`);
    }
    this.putBack(kept);
  }

  /**
   * Outbox → topic, oldest first, at most DRAIN_ROUNDS rounds of `drainBatches` batches each, read
   * by `_id`. Which ids: every `sweepMs` (and at start), a sweep reads the ids of the whole outbox
   * once, batches other (stopped or crashed) instances left included; in between, this instance's
   * own stored batches. False when the topic failed.
   */
  private async drain(store: UsageStore<R>): Promise<boolean> {
    const started = this.options.now();
    const sweep = started >= this.nextSweep;
    let ids: string[];
    try {
      if (sweep) {
        ids = await store.oldestIds(SWEEP_IDS_MAX);
        this.nextSweep = started + this.options.sweepMs;
        if (ids.length < SWEEP_IDS_MAX) {
          // The read saw the whole outbox: own batches stored before it and not in it were drained elsewhere.
          const seen = new Set(ids);
          for (const [id, batch] of this.own) if (batch.stored !== undefined && batch.stored < started && !seen.has(id)) this.forget(id);
        }
      } else {
        ids = [...this.own]
          .filter(([, b]) => b.stored !== undefined)
          .map(([id]) => id)
          .sort();
      }
    } catch (err: unknown) {
      this.events.warn(`cannot read the usage outbox (${message(err)})`);
      this.nextSweep = this.options.now() + this.options.sweepMs;
      return true;
    }
    const rounds = Math.min(ids.length, DRAIN_ROUNDS * this.options.drainBatches);
    for (let i = 0; i < rounds; i += this.options.drainBatches) {
      const asked = ids.slice(i, Math.min(rounds, i + this.options.drainBatches));
      let batches: OutboxBatch<R>[];
      try {
        batches = await store.byIds(asked);
      } catch (err: unknown) {
        this.events.warn(`cannot read the usage outbox (${message(err)})`);
        return true;
      }
      if (batches.length > 0) {
        try {
          await this.send(batches);
        } catch (err: unknown) {
          this.topicFailed(err);
          return false;
        }
        this.topicRecovered();
        this.events.drained(count(batches));
        try {
          await store.remove(batches.map((b) => b._id));
        } catch (err: unknown) {
          this.events.warn(`cannot delete ${batches.length} drained usage batches; they will be sent again (${message(err)})`);
          return true;
        }
      }
      // Drained now, or (asked for and not found) drained elsewhere.
      for (const id of asked) this.forget(id);
    }
    // A sweep that left ids behind (more than the rounds take, or more than it reads) comes back at once.
    if (sweep && (rounds < ids.length || ids.length >= SWEEP_IDS_MAX)) this.nextSweep = 0;
    return true;
  }

  /** Batches of at most RECORDS_PER_OUTBOX_BATCH records each, with their outbox ids, in the order taken. */
  private chunked(taken: readonly TenantBatch<R>[]): OutboxBatch<R>[] {
    const at = new Date(this.options.now());
    const batches: OutboxBatch<R>[] = [];
    for (const { tenantId, records } of taken) {
      for (let i = 0; i < records.length; i += RECORDS_PER_OUTBOX_BATCH) {
        const id = `${this.options.instance}:${(this.seq++).toString(36).padStart(10, '0')}`;
        batches.push({ _id: id, tenantId, records: records.slice(i, i + RECORDS_PER_OUTBOX_BATCH), at });
      }
    }
    return batches;
  }

  private putBack(batches: readonly OutboxBatch<R>[]): void {
    if (batches.length === 0) return;
    const byTenant = new Map<string, R[]>();
    for (const batch of batches) byTenant.set(batch.tenantId, (byTenant.get(batch.tenantId) ?? []).concat(batch.records));
    const dropped = this.backlog.putBack([...byTenant].map(([tenantId, records]) => ({ tenantId, records })));
    if (dropped > 0) this.events.dropped(dropped);
  }

  private addOutboxed(tenantId: string, n: number): void {
    this.outboxedBy.set(tenantId, (this.outboxedBy.get(tenantId) ?? 0) + n);
  }

  private forget(id: string): void {
    const batch = this.own.get(id);
    if (batch === undefined) return;
    this.own.delete(id);
    const left = (this.outboxedBy.get(batch.tenantId) ?? 0) - batch.records;
    if (left > 0) this.outboxedBy.set(batch.tenantId, left);
    else this.outboxedBy.delete(batch.tenantId);
  }

  private topicFailed(err: unknown): void {
    if (this.topicUp) this.events.warn(`the usage topic is unavailable; records go to the outbox (${message(err)})`);
    this.topicUp = false;
    // Once back, sweep before memory goes to the topic directly: batches another instance left in
    // the outbox (a sweep that could not send them, at start) sort before this instance's newer records.
    this.nextSweep = 0;
    this.retryAt = this.options.now() + this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    void this.topic.reset();
  }

  private topicRecovered(): void {
    this.topicUp = true;
    this.backoffMs = MIN_BACKOFF_MS;
  }
}

function count<R>(batches: readonly { records: readonly R[] }[]): number {
  return batches.reduce((n, b) => n + b.records.length, 0);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Waits for `work`, at most `ms`. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((r) => (timer = setTimeout(r, Math.max(0, ms))))]);
  clearTimeout(timer);
}
