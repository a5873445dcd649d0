interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One token bucket per key: `capacity` tokens, refilled at `ratePerSecond`, one taken per request.
 * In memory and bounded: beyond `maxEntries` keys, full buckets (which carry no state) are
 * dropped first, then the least recently created.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly ratePerSecond: number,
    readonly capacity: number,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0) || !(capacity >= 1)) throw new Error('a token bucket needs a positive rate and a capacity of at least 1');
  }

  /** Milliseconds until `key` has a token; 0 when it has one now. */
  waitMs(key: string): number {
    const tokens = this.level(key);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / this.ratePerSecond);
  }

  /** Takes a token from `key` (call after `waitMs` answered 0). */
  take(key: string): void {
    const now = this.now();
    const tokens = this.level(key, now);
    const bucket = this.buckets.get(key);
    if (bucket) {
      bucket.tokens = tokens - 1;
      bucket.at = now;
    } else {
      this.evictIfFull(now);
      this.buckets.set(key, { tokens: tokens - 1, at: now });
    }
  }

  get size(): number {
    return this.buckets.size;
  }

  private level(key: string, now = this.now()): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return this.capacity;
    return Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
  }

  /** Frees a tenth of the room at once, so that many new keys cost one scan per many inserts. */
  private evictIfFull(now: number): void {
    if (this.buckets.size < this.maxEntries) return;
    const target = Math.floor(this.maxEntries * 0.9);
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond >= this.capacity) this.buckets.delete(key);
    }
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= target) break;
      this.buckets.delete(key);
    }
  }
}
