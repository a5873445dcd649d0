/**
 * Limits of the data-key cache, as the AWS Encryption SDK's caching materials manager has them:
 * a cached data key encrypts new messages only while it is younger than `maxAgeMs`, has
 * encrypted fewer than `maxMessages` messages and fewer than `maxBytes` bytes (counting the
 * message about to be encrypted). `capacity` bounds the entries (least recently used first out).
 */
export interface DataKeyCacheLimits {
  readonly maxAgeMs: number;
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly capacity: number;
}

export const DEFAULT_CACHE_LIMITS: DataKeyCacheLimits = { maxAgeMs: 5 * 60_000, maxMessages: 1_000, maxBytes: 1024 ** 3, capacity: 100 };

/** A data key, its plaintext and its wrapped form. */
export interface CachedDataKey {
  readonly plaintext: Buffer;
  readonly wrapped: Buffer;
}

interface Entry {
  readonly key: CachedDataKey;
  readonly createdAt: number;
  messages: number;
  bytes: number;
}

export function checkLimits(limits: DataKeyCacheLimits): DataKeyCacheLimits {
  for (const [name, value] of Object.entries(limits) as [keyof DataKeyCacheLimits, number][]) {
    if (!(typeof value === 'number' && value > 0 && (Number.isInteger(value) || value === Infinity)))
      throw new RangeError(`cache.${name} must be a whole number above 0`);
  }
  return limits;
}

/**
 * The data keys of recent messages, by partition (the key and the AAD they were made for):
 * for encryption with usage counted against the limits, and unwrapped keys for decryption (age
 * and capacity only). Plaintext keys are zeroed when they leave the cache; callers get copies.
 */
export class DataKeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly limits: DataKeyCacheLimits,
    private readonly now: () => number = Date.now,
  ) {
    checkLimits(limits);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * A cached data key for one more message of `bytes` bytes, counted against its limits; undefined
   * (and the entry dropped) when there is none or this message would exceed a limit.
   */
  takeForEncryption(partition: string, bytes: number): CachedDataKey | undefined {
    const entry = this.fresh(partition);
    if (entry === undefined) return undefined;
    if (entry.messages + 1 > this.limits.maxMessages || entry.bytes + bytes > this.limits.maxBytes) {
      this.drop(partition);
      return undefined;
    }
    entry.messages += 1;
    entry.bytes += bytes;
    return copy(entry.key);
  }

  /** Caches a new data key that has just encrypted one message of `bytes` bytes (if that is within the limits). */
  putForEncryption(partition: string, key: CachedDataKey, bytes: number): void {
    if (bytes > this.limits.maxBytes || this.limits.maxMessages < 1) return;
    this.put(partition, { key: copy(key), createdAt: this.now(), messages: 1, bytes });
  }

  /** An unwrapped data key cached for decryption, while younger than maxAgeMs. */
  getForDecryption(partition: string): Buffer | undefined {
    const entry = this.fresh(partition);
    return entry === undefined ? undefined : Buffer.from(entry.key.plaintext);
  }

  putForDecryption(partition: string, key: CachedDataKey): void {
    this.put(partition, { key: copy(key), createdAt: this.now(), messages: 0, bytes: 0 });
  }

  /** Drops every entry (zeroing the keys). */
  clear(): void {
    for (const partition of [...this.entries.keys()]) this.drop(partition);
  }

  private fresh(partition: string): Entry | undefined {
    const entry = this.entries.get(partition);
    if (entry === undefined) return undefined;
    if (this.now() - entry.createdAt >= this.limits.maxAgeMs) {
      this.drop(partition);
      return undefined;
    }
    // Least recently used first out: a hit moves the entry to the end.
    this.entries.delete(partition);
    this.entries.set(partition, entry);
    return entry;
  }

  private put(partition: string, entry: Entry): void {
    this.drop(partition);
    this.entries.set(partition, entry);
    while (this.entries.size > this.limits.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.drop(oldest);
    }
  }

  private drop(partition: string): void {
    const entry = this.entries.get(partition);
    if (entry === undefined) return;
    entry.key.plaintext.fill(0);
    this.entries.delete(partition);
  }
}

const copy = (key: CachedDataKey): CachedDataKey => ({ plaintext: Buffer.from(key.plaintext), wrapped: Buffer.from(key.wrapped) });
