/** What happens when the usage audit can take no more records of a tenant. */
export type UsageAuditPolicy = 'fail-closed' | 'fail-open';

export interface BacklogLimits {
  /** Records of one tenant held in memory. */
  readonly tenantMax: number;
  /** Records of all tenants held in memory. */
  readonly totalMax: number;
  readonly policy: UsageAuditPolicy;
}

/** Records of one tenant taken out of the backlog together, oldest first. */
export interface TenantBatch<R> {
  readonly tenantId: string;
  readonly records: R[];
}

interface Tenanted {
  readonly tenantId: string;
}

/**
 * Fail-closed only: how far past its bound a backlog may still grow before records are dropped.
 * Operations admitted just before the bound was reached (in flight, or from a door that does not
 * ask) still leave their record; the headroom keeps them.
 */
export const FAIL_CLOSED_HEADROOM = 2;

/**
 * Usage records waiting in memory, one queue per tenant (pure; no I/O). A tenant's flood fills
 * only its own queue: admission and dropping look at the tenant's own backlog first, and `take`
 * shares what one flush may carry equally among the tenants that have records.
 */
export class UsageBacklog<R extends Tenanted> {
  private readonly queues = new Map<string, R[]>();
  private count = 0;
  /** Records dropped so far (fail-open, or past the fail-closed headroom). */
  dropped = 0;

  constructor(private readonly limits: BacklogLimits) {}

  /** Records waiting, all tenants. */
  get size(): number {
    return this.count;
  }

  /** Records of `tenantId` waiting. */
  sizeOf(tenantId: string): number {
    return this.queues.get(tenantId)?.length ?? 0;
  }

  /** The largest backlog of one tenant. */
  largest(): number {
    let max = 0;
    for (const queue of this.queues.values()) max = Math.max(max, queue.length);
    return max;
  }

  /**
   * Whether an operation of `tenantId` may run now: always under fail-open; under fail-closed, not
   * once the tenant's backlog reached its bound, nor, when all tenants together reached theirs,
   * for a tenant holding at least an equal share of it (the largest backlogs wait first).
   */
  admits(tenantId: string): boolean {
    if (this.limits.policy === 'fail-open') return true;
    const own = this.sizeOf(tenantId);
    if (own >= this.limits.tenantMax) return false;
    return !(this.count >= this.limits.totalMax && own > 0 && own * this.queues.size >= this.count);
  }

  /** Adds a record; returns how many records the bounds dropped (the oldest of the largest backlog). */
  push(record: R): number {
    const queue = this.queues.get(record.tenantId);
    if (queue) queue.push(record);
    else this.queues.set(record.tenantId, [record]);
    this.count++;
    return this.enforce(record.tenantId);
  }

  /**
   * Puts batches taken earlier back in front of their tenants' queues (they are older than what
   * arrived since). Returns how many records the bounds dropped.
   */
  putBack(batches: readonly TenantBatch<R>[]): number {
    let dropped = 0;
    for (const { tenantId, records } of batches) {
      if (records.length === 0) continue;
      const queue = this.queues.get(tenantId);
      this.queues.set(tenantId, queue ? records.concat(queue) : [...records]);
      this.count += records.length;
      dropped += this.enforce(tenantId);
    }
    return dropped;
  }

  /**
   * Takes up to `max` records, oldest first within each tenant, shared equally among the tenants
   * with records (a tenant with fewer than its share leaves the rest to the others), and at most
   * `capOf(tenantId)` records of a tenant (0: none).
   */
  take(max: number, capOf: (tenantId: string) => number = () => Number.POSITIVE_INFINITY): TenantBatch<R>[] {
    const taken = new Map<string, R[]>();
    const room = new Map<string, number>();
    for (const tenantId of this.queues.keys()) {
      const cap = Math.min(capOf(tenantId), this.sizeOf(tenantId));
      if (cap > 0) room.set(tenantId, cap);
    }
    let remaining = max;
    while (remaining > 0 && room.size > 0) {
      const share = Math.max(1, Math.floor(remaining / room.size));
      for (const [tenantId, left] of room) {
        if (remaining === 0) break;
        const n = Math.min(share, left, remaining);
        const queue = this.queues.get(tenantId) ?? [];
        const chunk = queue.splice(0, n);
        const list = taken.get(tenantId);
        if (list) list.push(...chunk);
        else taken.set(tenantId, chunk);
        if (queue.length === 0) this.queues.delete(tenantId);
        this.count -= n;
        remaining -= n;
        if (left === n) room.delete(tenantId);
        else room.set(tenantId, left - n);
      }
    }
    return [...taken].map(([tenantId, records]) => ({ tenantId, records }));
  }

  /** Drops the oldest records past the bounds: the tenant's own first, then the largest backlog's. */
  private enforce(tenantId: string): number {
    const headroom = this.limits.policy === 'fail-closed' ? FAIL_CLOSED_HEADROOM : 1;
    let dropped = this.dropOldest(tenantId, this.sizeOf(tenantId) - this.limits.tenantMax * headroom);
    while (this.count > this.limits.totalMax * headroom) {
      dropped += this.dropOldest(this.largestTenant(), 1);
    }
    this.dropped += dropped;
    return dropped;
  }

  private dropOldest(tenantId: string, n: number): number {
    if (n <= 0) return 0;
    const queue = this.queues.get(tenantId);
    if (!queue) return 0;
    const removed = queue.splice(0, n).length;
    if (queue.length === 0) this.queues.delete(tenantId);
    this.count -= removed;
    return removed;
  }

  private largestTenant(): string {
    let best = '';
    let max = -1;
    for (const [tenantId, queue] of this.queues) {
      if (queue.length > max) {
        max = queue.length;
        best = tenantId;
      }
    }
    return best;
  }
}
