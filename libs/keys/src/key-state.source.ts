import { Inject, Injectable, Optional } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import type { TenantLog } from '@keyward/domain';
import { BoundedCache, checkClaimedHash, CommandExecutor, observeCache, type Commit, type CommitRejection } from '@keyward/event-log';
import { KEYWARD_CONFIG, MetricsRegistry } from '@keyward/platform';

/** What this process knows of a tenant's head: from the stream, and when it last caught up with the store. */
interface StreamMark {
  /** Highest seq the tenant's log is known to have (from this process's commits or the stream). */
  known: number;
  /** When this process's copy of the log was last caught up with the store (0: never, or forgotten). */
  checkedAt: number;
}

/** Marks per tenant log the executor may hold: a mark is ~100 bytes, a log some 200 KiB (100 keys). */
const MARKS_PER_LOG = 4;
const MIN_MARKS = 10_000;

interface StreamWaiter {
  readonly seq: number;
  readonly done: (streamed: boolean) => void;
}

/**
 * Key and tenant state for the crypto hot path, without I/O in the steady state: this process's
 * copy of each tenant log, trusted until keyward.events says a newer commit exists (or, should
 * the stream go quiet, for at most CRYPTO_STATE_TTL_MS). Then one indexed read catches it up.
 */
@Injectable()
export class KeyStateSource {
  /**
   * Per tenant, bounded (every tenant of the deployment commits on the stream, not only the ones
   * this process serves). A forgotten mark only costs a read: a log without one is caught up with
   * the store before it is trusted, and a read-your-writes wait polls the views instead.
   */
  private readonly marks: BoundedCache<string, StreamMark>;
  /** Readers waiting for the stream to carry a tenant's commit (see whenStreamed). */
  private readonly waiters = new Map<string, Set<StreamWaiter>>();
  private readonly ttlMs: number;

  constructor(
    private readonly executor: CommandExecutor,
    @Inject(KEYWARD_CONFIG) config: KeywardConfig,
    /** Absent in unit specs: /metrics shows the log cache and the marks (observeCache). */
    @Optional() metrics?: MetricsRegistry,
  ) {
    this.ttlMs = config.crypto.stateTtlMs;
    this.marks = new BoundedCache({ maxEntries: Math.max(MIN_MARKS, MARKS_PER_LOG * config.limits.tenantLogCacheMax) });
    if (metrics) {
      observeCache(metrics.registry, 'tenant-logs', { stats: () => executor.cacheStats() });
      observeCache(metrics.registry, 'stream-marks', this.marks);
    }
  }

  private known(tenantId: string): number {
    return this.marks.peek(tenantId)?.known ?? 0;
  }

  private mark(tenantId: string): StreamMark {
    let mark = this.marks.get(tenantId);
    if (mark === undefined) {
      mark = { known: 0, checkedAt: 0 };
      this.marks.set(tenantId, mark);
    }
    return mark;
  }

  async log(tenantId: string, now = Date.now()): Promise<TenantLog> {
    const log = this.executor.held(tenantId);
    const mark = this.marks.get(tenantId);
    if (log !== undefined && mark !== undefined && log.seq >= mark.known && now - mark.checkedAt < this.ttlMs) {
      return log;
    }
    // An evicted log (or a forgotten mark) is read again from the store: every commit, whatever the stream said meanwhile.
    const current = await this.executor.current(tenantId);
    const fresh = this.mark(tenantId);
    fresh.checkedAt = now;
    // The store is never behind a real commit the stream carried (the relay publishes stored
    // commits), so a seq the store does not have came from a forged message: forget it.
    if (fresh.known > current.seq) fresh.known = current.seq;
    return current;
  }

  /** The stream carried commit `seq` of `tenantId`: anything older is stale from now on. */
  noteCommit(tenantId: string, seq: number): void {
    const mark = this.mark(tenantId);
    if (seq > mark.known) mark.known = seq;
    const waiting = this.waiters.get(tenantId);
    if (!waiting) return;
    for (const waiter of [...waiting]) if (waiter.seq <= seq) waiter.done(true);
  }

  /**
   * Checks a commit the stream carried (already noted by noteCommit, so that the crypto path re-reads
   * the store at once) against the store, through this process's copy of the log: a commit this
   * process made or has folded costs no read; another one costs the catch-up that would follow
   * anyway. A seq the store does not have is forgotten again (it would otherwise send every request
   * to the store and release read-your-writes waits early); the hash is compared when the store's
   * head is that very commit. A tenant this process holds no log of is not read for this (log()
   * forgets such a seq at its first read). Answers why the message does not match the store.
   */
  async confirmStreamed(claimed: Commit): Promise<CommitRejection | undefined> {
    const { tenantId, seq } = claimed;
    let head = this.executor.peekHead(tenantId);
    if (head === undefined) return undefined;
    if (head.seq < seq) {
      await this.executor.current(tenantId);
      this.mark(tenantId).checkedAt = Date.now();
      head = this.executor.peekHead(tenantId);
    } else if (head.seq >= this.known(tenantId)) {
      this.mark(tenantId).checkedAt = Date.now(); // as fresh as the stream knows
    }
    const storeSeq = head?.seq ?? 0;
    if (storeSeq < seq) {
      const mark = this.mark(tenantId);
      if (mark.known > storeSeq) mark.known = storeSeq;
      return 'not-in-store';
    }
    return head?.seq === seq ? checkClaimedHash(claimed, head.hash) : undefined;
  }

  /** The highest seq of the tenant the stream has carried since this process follows it. */
  streamedSeq(tenantId: string): number {
    return this.known(tenantId);
  }

  /** Resolves true once the stream has carried commit `seq` of the tenant, false after `timeoutMs`. */
  whenStreamed(tenantId: string, seq: number, timeoutMs: number): Promise<boolean> {
    if (this.streamedSeq(tenantId) >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiting = this.waiters.get(tenantId) ?? new Set<StreamWaiter>();
      this.waiters.set(tenantId, waiting);
      const waiter: StreamWaiter = {
        seq,
        done: (streamed) => {
          clearTimeout(timer);
          waiting.delete(waiter);
          if (waiting.size === 0 && this.waiters.get(tenantId) === waiting) this.waiters.delete(tenantId);
          resolve(streamed);
        },
      };
      const timer = setTimeout(() => waiter.done(false), Math.max(0, timeoutMs));
      waiting.add(waiter);
    });
  }
}
