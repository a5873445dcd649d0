import type { UsageLimits } from '@keyward/domain';

/** Most slots one key's Usage Limits are cut into: a process claims one at a time, so this bounds the store writes of a key's life. */
export const USAGE_LIMIT_SLOTS = 64;

/** The units slot `slot` of `limits` holds: `ceil(total / 64)` each (at least 1), the last one the rest. */
export function slotUnits(limits: UsageLimits, slot: number): number {
  const size = Math.max(1, Math.ceil(limits.total / USAGE_LIMIT_SLOTS));
  return Math.max(0, Math.min(size, limits.total - slot * size));
}

/** How many slots `limits` has. */
export const slotCount = (limits: UsageLimits): number =>
  Math.ceil(limits.total / Math.max(1, Math.ceil(limits.total / USAGE_LIMIT_SLOTS)));

/** Takes slot `slot` for this process (a unique insert); false when someone else holds it. */
export type ClaimSlot = (slot: number) => Promise<boolean>;

/** Thrown when a key's Usage Limits have nothing left for a use. */
export class UsageLimitReached extends Error {
  constructor(readonly limits: UsageLimits) {
    super(`usage limit of ${limits.total} ${limits.unit}s reached`);
    this.name = 'UsageLimitReached';
  }
}

interface Allowance {
  /** Units of the slots this process owns, not spent yet. */
  inHand: number;
  /** The next slot to try. */
  next: number;
  /** Requests of this key, one at a time (spending and claiming must not interleave). */
  queue: Promise<void>;
}

/**
 * One process's share of each key's Usage Limits. The total is cut into at most 64 slots; a process
 * spends only units of slots it claimed (a unique insert per slot, so no slot is ever owned twice)
 * and claims the next one when it holds too few. So the units spent by all processes together never
 * exceed the total, whatever the races and restarts; what a process held and did not spend (a crash,
 * a restart, an eviction) is lost, so a limit may refuse a little early (at most one slot per
 * process), never late. A use larger than what remains is refused, and what it claimed stays in hand
 * for smaller uses.
 */
export class UsageAllowances {
  private readonly allowances = new Map<string, Allowance>();

  constructor(private readonly maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError('maxEntries must be positive');
  }

  /** Spends `units` of the key `id`'s limits; throws UsageLimitReached when they do not have them. */
  spend(id: string, limits: UsageLimits, units: number, claim: ClaimSlot): Promise<void> {
    if (units <= 0) return Promise.resolve();
    const allowance = this.allowances.get(id) ?? this.track(id);
    const run = allowance.queue.then(() => this.take(allowance, limits, units, claim));
    allowance.queue = run.catch(() => undefined);
    return run;
  }

  /** Units this process holds for `id` (for tests). */
  inHand(id: string): number {
    return this.allowances.get(id)?.inHand ?? 0;
  }

  private async take(allowance: Allowance, limits: UsageLimits, units: number, claim: ClaimSlot): Promise<void> {
    const slots = slotCount(limits);
    while (allowance.inHand < units && allowance.next < slots) {
      const slot = allowance.next;
      allowance.next += 1;
      if (await claim(slot)) allowance.inHand += slotUnits(limits, slot);
    }
    if (allowance.inHand < units) throw new UsageLimitReached(limits);
    allowance.inHand -= units;
  }

  private track(id: string): Allowance {
    if (this.allowances.size >= this.maxEntries) {
      const oldest = this.allowances.keys().next();
      if (!oldest.done) this.allowances.delete(oldest.value);
    }
    const allowance: Allowance = { inHand: 0, next: 0, queue: Promise.resolve() };
    this.allowances.set(id, allowance);
    return allowance;
  }
}
