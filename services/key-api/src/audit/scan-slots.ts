/** Why a scan was refused: the tenant already runs its share, or the instance runs all it may. */
export type ScanRefusal = 'tenant' | 'overall';

/**
 * Counts topic scans running at once, per tenant and overall, and refuses one beyond either
 * limit. Pure bookkeeping: the caller answers the refusal (429) and releases what it acquired.
 */
export class ScanSlots {
  private readonly perTenant = new Map<string, number>();
  private running = 0;

  constructor(
    readonly maxPerTenant: number,
    readonly maxOverall: number,
  ) {}

  /** Takes a slot for `tenantId` and answers its release, or answers why there is none. */
  acquire(tenantId: string): { release: () => void } | { refused: ScanRefusal } {
    const mine = this.perTenant.get(tenantId) ?? 0;
    if (mine >= this.maxPerTenant) return { refused: 'tenant' };
    if (this.running >= this.maxOverall) return { refused: 'overall' };
    this.perTenant.set(tenantId, mine + 1);
    this.running++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.running--;
        const left = (this.perTenant.get(tenantId) ?? 1) - 1;
        if (left > 0) this.perTenant.set(tenantId, left);
        else this.perTenant.delete(tenantId);
      },
    };
  }

  get active(): number {
    return this.running;
  }
}
