export interface LockoutPolicy {
  /** Failures within `windowMs` that lock the key out. */
  readonly failures: number;
  readonly windowMs: number;
  /** How long a locked-out key stays refused. */
  readonly lockoutMs: number;
}

interface Entry {
  failures: number;
  windowStart: number;
  lockedUntil: number;
}

/**
 * Counts authentication failures per key (an address and a credential id) and locks the key out
 * once `failures` happened within `windowMs` of the first. In memory and bounded: beyond
 * `maxEntries` keys, stale ones are dropped first, then the oldest that are not locked.
 */
export class FailureLockout {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly policy: LockoutPolicy,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Milliseconds `key` stays locked out; 0 when it is not. */
  lockedFor(key: string): number {
    const entry = this.entries.get(key);
    return entry ? Math.max(0, entry.lockedUntil - this.now()) : 0;
  }

  /** Records a failure; answers how long `key` is now locked out (0: not yet). */
  fail(key: string): number {
    const now = this.now();
    let entry = this.entries.get(key);
    if (!entry) {
      this.evictIfFull(now);
      entry = { failures: 0, windowStart: now, lockedUntil: 0 };
      this.entries.set(key, entry);
    }
    if (entry.lockedUntil > now) return entry.lockedUntil - now;
    if (now - entry.windowStart > this.policy.windowMs) {
      entry.failures = 0;
      entry.windowStart = now;
    }
    entry.failures += 1;
    if (entry.failures >= this.policy.failures) {
      entry.failures = 0;
      entry.windowStart = now;
      entry.lockedUntil = now + this.policy.lockoutMs;
      return this.policy.lockoutMs;
    }
    return 0;
  }

  /** A success forgets the failures of `key` (never lifts a lock-out: locked keys are not even checked). */
  succeed(key: string): void {
    const entry = this.entries.get(key);
    if (entry && entry.lockedUntil <= this.now()) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Frees a tenth of the room at once, so that a flood of new keys costs one scan per many inserts. */
  private evictIfFull(now: number): void {
    if (this.entries.size < this.maxEntries) return;
    const target = Math.floor(this.maxEntries * 0.9);
    for (const [key, entry] of this.entries) {
      if (entry.lockedUntil <= now && now - entry.windowStart > this.policy.windowMs) this.entries.delete(key);
    }
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= target) return;
      if (entry.lockedUntil <= now) this.entries.delete(key);
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size <= target) return;
      this.entries.delete(key);
    }
  }
}
