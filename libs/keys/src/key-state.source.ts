import { Inject, Injectable } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import type { TenantLog } from '@keyward/domain';
import { checkClaimedHash, CommandExecutor, type Commit, type CommitRejection } from '@keyward/event-log';
import { KEYWARD_CONFIG } from '@keyward/platform';

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
  /** Highest seq each tenant's log is known to have (from this process's commits or the stream). */
  private readonly known = new Map<string, number>();
  private readonly checkedAt = new Map<string, number>();
  /** Readers waiting for the stream to carry a tenant's commit (see whenStreamed). */
  private readonly waiters = new Map<string, Set<StreamWaiter>>();
  private readonly ttlMs: number;

  constructor(
    private readonly executor: CommandExecutor,
    @Inject(KEYWARD_CONFIG) config: KeywardConfig,
  ) {
    this.ttlMs = config.crypto.stateTtlMs;
  }

  async log(tenantId: string, now = Date.now()): Promise<TenantLog> {
    const log = this.executor.peek(tenantId);
    if (log !== undefined && log.seq >= (this.known.get(tenantId) ?? 0) && now - (this.checkedAt.get(tenantId) ?? 0) < this.ttlMs) {
      return log;
    }
    const current = await this.executor.current(tenantId);
    this.checkedAt.set(tenantId, now);
    // The store is never behind a real commit the stream carried (the relay publishes stored
    // commits), so a seq the store does not have came from a forged message: forget it.
    if ((this.known.get(tenantId) ?? 0) > current.seq) this.known.set(tenantId, current.seq);
    return current;
  }

  /** The stream carried commit `seq` of `tenantId`: anything older is stale from now on. */
  noteCommit(tenantId: string, seq: number): void {
    if (seq > (this.known.get(tenantId) ?? 0)) this.known.set(tenantId, seq);
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
      this.checkedAt.set(tenantId, Date.now());
      head = this.executor.peekHead(tenantId);
    } else if (head.seq >= (this.known.get(tenantId) ?? 0)) {
      this.checkedAt.set(tenantId, Date.now()); // as fresh as the stream knows
    }
    const storeSeq = head?.seq ?? 0;
    if (storeSeq < seq) {
      if ((this.known.get(tenantId) ?? 0) > storeSeq) this.known.set(tenantId, storeSeq);
      return 'not-in-store';
    }
    return head?.seq === seq ? checkClaimedHash(claimed, head.hash) : undefined;
  }

  /** The highest seq of the tenant the stream has carried since this process follows it. */
  streamedSeq(tenantId: string): number {
    return this.known.get(tenantId) ?? 0;
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
