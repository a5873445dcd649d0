import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { commitId, type Commit } from '../commit/commit';
import type { CommitStore } from '../commit/commit-store';
import { toMessage } from './commit-message';
import type { Lease } from './lease';

/** Least time between two lag queries of a relay without the lease. */
const LAG_QUERY_EVERY_MS = 1_000;
/** Most commits handed over and not yet published; beyond it they are left to the next sweep. */
const MAX_HANDED_OVER = 10_000;
/** A sweep waits at least this many times as long as the last one took: sweeping costs the store at most ~1/10 of a core. */
const SWEEP_COST_FACTOR = 10;
/** Longest wait between two sweeps, however slow the store answers. */
const MAX_SWEEP_INTERVAL_MS = 30_000;
/**
 * Longest wait between two sweeps of an idle relay: each sweep that finds nothing doubles the wait
 * from `idleMs` up to this. A nudge, or a sweep that finds commits, brings it back to `idleMs`.
 */
const MAX_IDLE_SWEEP_MS = 500;

export interface RelayLogger {
  warn(message: string): void;
  log(message: string): void;
}

export interface RelayOptions {
  readonly topic: string;
  readonly batchSize?: number;
  /** Pause of an idle relay, and the shortest time between two sweeps (default 250 ms). */
  readonly idleMs?: number;
  /** Called with the age in seconds of the oldest unpublished commit (0 when none). */
  readonly onLag?: (seconds: number) => void;
}

/**
 * Publishes stored commits to Kafka, then marks them published. At least once: a crash between
 * the two republishes, and consumers drop duplicates by (tenantId, seq). Only the lease holder
 * publishes, so two relays never interleave.
 *
 * Two ways in. Commits this process stored are handed over (`nudge(commit)`) and published
 * straight from memory, in per-tenant seq order, without asking the store. Everything else
 * (commits of other instances or services, of a crashed process, handed over beyond the bound)
 * is found by a sweep, run beside the passes: it reads the commit outbox (one small marker per
 * unpublished commit, so it costs what is unpublished, not the log) and those commits by `_id`
 * (CommitStore.unpublished). The first sweep of a relay gives a log written before the outbox
 * existed its markers, once per store (CommitStore.backfillOutbox). A relay sweeps when it takes
 * the lease (another holder may have left commits behind), after a full batch or a failure, and
 * otherwise every `idleMs`, slowed down to ten times the last sweep's duration (a guard should a
 * sweep ever be slow: the store gets at most ~1/10 of a core of it), and, while sweeps find
 * nothing and nothing is nudged, backed off to two a second (MAX_IDLE_SWEEP_MS): an idle relay
 * costs the store two small reads a second, and the first commit of another process (kmip, another
 * key-api instance) after a quiet spell waits at most that; later ones find sweeps at `idleMs`.
 * A sweep's commit and a handed-over commit of the same tenant may reach the topic out of seq
 * order; consumers already fill gaps from the store and drop duplicates.
 */
export class Relay {
  private producer: Promise<Producer> | undefined;
  private running = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private pending = false;
  /** Commits this process stored and has not published yet, by commit id. */
  private readonly handedOver = new Map<string, Commit>();
  /** The lease term of the last pass that held the lease. */
  private heldTerm: number | undefined;
  private sweepNeeded = true;
  private lastSweepAt = 0;
  /** Pause of an idle relay, and the shortest time between two sweeps. */
  private readonly idleMs: number;
  private sweepIntervalMs: number;
  /** Sweeps in a row that found nothing (and nothing nudged meanwhile). */
  private quietSweeps = 0;
  private sweeping: Promise<number> | undefined;
  private sweepFailure: Error | undefined;
  /** Commits the passes published while a sweep runs: its reads may still have seen them unpublished. */
  private publishedDuringSweep: Set<string> | undefined;
  /**
   * Commits a sweep published (or is publishing) that this process may still hand over: a sweep
   * can find a commit between its append and its `nudge`. Forgotten when handed over, or all at
   * once beyond MAX_HANDED_OVER.
   */
  private readonly sweptRecently = new Set<string>();
  /** Whether this relay made sure the outbox holds every unpublished commit (CommitStore.backfillOutbox). */
  private backfilled = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly store: CommitStore,
    private readonly lease: Lease,
    private readonly options: RelayOptions,
    private readonly logger: RelayLogger,
  ) {
    this.idleMs = options.idleMs ?? 250;
    this.sweepIntervalMs = this.idleMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Publish soon: a commit was just stored (handed over when given, so no sweep is needed to find it). */
  nudge(commit?: Commit): void {
    if (commit) {
      const id = commitId(commit.tenantId, commit.seq);
      if (this.sweptRecently.delete(id)) return; // a sweep published it already
      if (this.handedOver.size < MAX_HANDED_OVER) this.handedOver.set(id, commit);
      else this.sweepNeeded = true;
    }
    this.pending = true;
    this.quietSweeps = 0;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.sweeping;
    const producer = await this.producer?.catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await this.lease.release().catch(() => undefined);
  }

  /** One pass: publish what is unpublished (up to a batch), sweep included. Returns how many were published. */
  async publishOnce(): Promise<number> {
    this.sweepNeeded = true;
    const { published } = await this.pass();
    const swept = await this.sweeping;
    this.throwSweepFailure();
    return published + (swept ?? 0);
  }

  /**
   * One pass: publishes the handed-over commits, and starts a sweep when one is due. The sweep
   * runs beside later passes, so that a commit handed over meanwhile does not wait for the
   * store's reads. Returns what it published and the lag it learned for free: none left behind
   * (0), the age of the oldest handed-over commit still waiting, or unknown (`undefined`: ask
   * the store) without the lease or while a sweep is needed.
   */
  private async pass(): Promise<{ published: number; lagSeconds: number | undefined }> {
    this.throwSweepFailure();
    if (!(await this.lease.acquire())) {
      // The holder's sweeps publish what this process stored; when it takes over, it sweeps first.
      this.handedOver.clear();
      this.heldTerm = undefined;
      return { published: 0, lagSeconds: undefined };
    }
    const term = this.lease.heldTerm;
    // A gap in the terms held: someone else may have held the lease in between.
    if (term === undefined || this.heldTerm === undefined || term > this.heldTerm + 1) this.sweepNeeded = true;
    this.heldTerm = term;
    const limit = this.options.batchSize ?? 500;
    if (!this.sweeping && (this.sweepNeeded || Date.now() - this.lastSweepAt >= this.sweepIntervalMs)) {
      this.sweeping = this.sweep(limit).finally(() => {
        this.sweeping = undefined;
        this.wake?.();
      });
    }
    const commits = this.takeHandedOver(limit);
    await this.publishHandedOver(commits);
    return { published: commits.length, lagSeconds: this.sweepNeeded ? undefined : this.handedOverAgeSeconds() };
  }

  private async publishHandedOver(commits: readonly Commit[]): Promise<void> {
    if (commits.length === 0) return;
    await this.publish(commits);
    for (const c of commits) {
      const id = commitId(c.tenantId, c.seq);
      this.handedOver.delete(id);
      this.publishedDuringSweep?.add(id);
    }
  }

  /**
   * Publishes the store's unpublished commits that were not handed over (those are the passes'),
   * and times the reads to pace the next sweep. Resolves to how many it published; a failure is
   * kept for the next pass to report, and asks for another sweep.
   */
  private async sweep(limit: number): Promise<number> {
    const passed = new Set<string>();
    this.publishedDuringSweep = passed;
    try {
      if (!this.backfilled) {
        const markers = await this.store.backfillOutbox();
        if (markers > 0) this.logger.log(`relay: ${markers} unpublished commit(s) of a log without an outbox added to the outbox`);
        this.backfilled = true;
      }
      const started = Date.now();
      const found = await this.store.unpublished(limit);
      this.lastSweepAt = Date.now();
      this.quietSweeps = found.length === 0 ? this.quietSweeps + 1 : 0;
      const idleWait = Math.min(Math.max(MAX_IDLE_SWEEP_MS, this.idleMs), this.idleMs * 2 ** Math.min(this.quietSweeps - 1, 10));
      this.sweepIntervalMs = Math.min(
        MAX_SWEEP_INTERVAL_MS,
        Math.max(idleWait, this.idleMs, (this.lastSweepAt - started) * SWEEP_COST_FACTOR),
      );
      const commits = found.filter((c) => {
        const id = commitId(c.tenantId, c.seq);
        return !this.handedOver.has(id) && !passed.has(id);
      });
      if (commits.length > 0) {
        // Noted before publishing: a nudge arriving meanwhile must not publish them a second time.
        const swept = commits.map((c) => commitId(c.tenantId, c.seq));
        if (this.sweptRecently.size + swept.length > MAX_HANDED_OVER) this.sweptRecently.clear();
        for (const id of swept) this.sweptRecently.add(id);
        // Their writers may have stopped before raising their tenants' head hints (a crash after the
        // commit): raised before publishing, so that whoever reads hints after a restart and follows
        // the topic from then on (the checkpointer) learns of them one way or the other.
        const published = this.store.raiseHeadHints(newestPerTenant(commits)).then(() => this.publish(commits));
        await published.catch((err: unknown) => {
          // Their markers remain: the next sweep publishes them.
          for (const id of swept) this.sweptRecently.delete(id);
          throw err;
        });
      }
      // A full batch: more may be waiting.
      this.sweepNeeded = found.length >= limit;
      return commits.length;
    } catch (err: unknown) {
      this.sweepNeeded = true;
      this.sweepFailure = err instanceof Error ? err : new Error('the sweep for unpublished commits failed');
      return 0;
    } finally {
      this.publishedDuringSweep = undefined;
    }
  }

  private throwSweepFailure(): void {
    const failure = this.sweepFailure;
    this.sweepFailure = undefined;
    if (failure) throw failure;
  }

  /** Handed-over commits, oldest first per tenant. */
  private takeHandedOver(limit: number): Commit[] {
    return [...this.handedOver.values()]
      .sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : a.seq - b.seq))
      .slice(0, limit);
  }

  private handedOverAgeSeconds(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const c of this.handedOver.values()) oldest = Math.min(oldest, Date.parse(c.committedAt));
    return Number.isFinite(oldest) ? Math.max(0, (Date.now() - oldest) / 1000) : 0;
  }

  private async publish(commits: readonly Commit[]): Promise<void> {
    const connecting = this.connectedProducer();
    const producer = await connecting;
    try {
      await producer.send({ topic: this.options.topic, acks: -1, messages: commits.map(toMessage) });
    } catch (err: unknown) {
      // A broken idempotent session (broker restart, fenced epoch) is rebuilt from scratch.
      if (this.producer === connecting) this.producer = undefined;
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
    await this.store.markPublished(commits.map((c) => commitId(c.tenantId, c.seq)));
  }

  /** One producer for passes and sweeps alike, connected once. */
  private connectedProducer(): Promise<Producer> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      return producer;
    })().catch((err: unknown) => {
      this.producer = undefined;
      throw err;
    });
    return this.producer;
  }

  private async reportLag(): Promise<void> {
    if (!this.options.onLag) return;
    const oldest = await this.store.oldestUnpublished();
    this.options.onLag(oldest ? Math.max(0, (Date.now() - Date.parse(oldest.committedAt)) / 1000) : 0);
  }

  private async run(): Promise<void> {
    let backoffMs = 100;
    let lastProblem = '';
    let lagAskedAt = 0;
    while (this.running) {
      this.pending = false;
      let published = 0;
      try {
        const pass = await this.pass();
        published = pass.published;
        if (pass.lagSeconds !== undefined) {
          this.options.onLag?.(pass.lagSeconds);
        } else if (Date.now() - lagAskedAt >= Math.max(LAG_QUERY_EVERY_MS, this.sweepIntervalMs)) {
          // Without the lease (or after a full batch): ask the store, no more often than it is swept.
          lagAskedAt = Date.now();
          await this.reportLag();
        }
        if (lastProblem) this.logger.log('relay: publishing again');
        lastProblem = '';
        backoffMs = 100;
      } catch (err: unknown) {
        const problem = err instanceof Error ? err.message : String(err);
        if (problem !== lastProblem) this.logger.warn(`relay: cannot publish yet (${problem}); retrying`);
        lastProblem = problem;
        await this.reportLag().catch(() => undefined);
        await this.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5_000);
        continue;
      }
      // Idle: until the next sweep is due (a nudge wakes it sooner), within MAX_IDLE_SWEEP_MS for the lease's renewal.
      const untilSweep = this.lastSweepAt + this.sweepIntervalMs - Date.now();
      // nudge() may have set `pending` while we were awaiting.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (published === 0 && !this.pending) await this.sleep(Math.max(this.idleMs, Math.min(untilSweep, MAX_IDLE_SWEEP_MS)));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** The highest seq of each tenant among these commits. */
function newestPerTenant(commits: readonly Commit[]): Map<string, number> {
  const newest = new Map<string, number>();
  for (const c of commits) newest.set(c.tenantId, Math.max(newest.get(c.tenantId) ?? 0, c.seq));
  return newest;
}
