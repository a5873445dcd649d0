/** Why an entry left the cache (the callback zeroes or closes what it owns). */
export type EvictionReason = 'capacity' | 'expired' | 'deleted' | 'cleared';

/** The bounds of a cache: whichever is reached first evicts the least recently used entries. */
export interface CacheBounds {
  /** Most entries (0: nothing is kept). */
  readonly maxEntries: number;
  /** Most estimated bytes over all entries (absent: no byte bound). */
  readonly maxBytes?: number;
  /** Longest time an entry is kept after it was set (absent: no age bound). */
  readonly maxAgeMs?: number;
}

export interface CacheHooks<K, V> {
  /** Estimated bytes of a value (absent: 0, so only the entry count bounds the cache). Re-read by `resize`. */
  readonly sizeOf?: (value: V) => number;
  /** False keeps an entry in place (for example work queued on it): the bounds may then be exceeded until it is released. */
  readonly evictable?: (value: V) => boolean;
  /** Called once for every entry that leaves the cache, whatever the reason. */
  readonly onEvict?: (key: K, value: V, reason: EvictionReason) => void;
}

/** Counters since the cache was made (the metrics read them: cache-metrics.ts). */
export interface CacheStats {
  readonly entries: number;
  readonly bytes: number;
  /** Entries dropped to stay within the bounds. */
  readonly evictions: number;
  /** Entries dropped because they were older than maxAgeMs. */
  readonly expirations: number;
  /** Entries set for a key that was absent. */
  readonly loads: number;
  /** Loads of a key the cache had evicted or expired before (the cost of the bound). */
  readonly reloads: number;
}

interface Entry<V> {
  value: V;
  bytes: number;
  readonly at: number;
}

/** Keys remembered as evicted, to count reloads: a bounded list of names, never values. */
const MAX_GHOSTS = 10_000;

/**
 * The one bounded cache policy of the per-process state that grows with the deployment (tenant
 * logs, stream marks, unwrapped material): least recently used first, by entry count and by an
 * estimate of bytes, optionally by age. Nothing here does I/O: a caller that misses reloads from
 * the store, so an evicted entry costs a read, never an answer.
 */
export class BoundedCache<K, V> {
  /** In least-recently-used order: a use moves the entry to the end. */
  private readonly entries = new Map<K, Entry<V>>();
  private readonly ghosts = new Map<K, true>();
  private totalBytes = 0;
  private counts = { evictions: 0, expirations: 0, loads: 0, reloads: 0 };

  constructor(
    readonly bounds: CacheBounds,
    private readonly hooks: CacheHooks<K, V> = {},
  ) {
    if (!(bounds.maxEntries >= 0) || (bounds.maxBytes !== undefined && !(bounds.maxBytes >= 0))) {
      throw new RangeError('maxEntries and maxBytes must not be negative');
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  stats(): CacheStats {
    return { entries: this.entries.size, bytes: this.totalBytes, ...this.counts };
  }

  /** The value, marked most recently used; an expired entry is dropped and answers undefined. */
  get(key: K, now = Date.now()): V | undefined {
    const entry = this.live(key, now);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** The value without marking it used (an expired entry is dropped). */
  peek(key: K, now = Date.now()): V | undefined {
    return this.live(key, now)?.value;
  }

  has(key: K, now = Date.now()): boolean {
    return this.live(key, now) !== undefined;
  }

  /**
   * Keeps `value` as the most recently used entry, evicting others to make room. Answers false
   * when the cache keeps nothing (maxEntries 0, or a value larger than maxBytes alone): the value
   * is then the caller's again (no onEvict for it).
   */
  set(key: K, value: V, now = Date.now()): boolean {
    const previous = this.entries.get(key);
    if (previous?.value === value) {
      this.get(key, now);
      this.resize(key, now);
      return this.entries.has(key);
    }
    if (previous !== undefined) this.remove(key, previous, 'deleted');
    const bytes = this.sizeOf(value);
    const { maxEntries, maxBytes } = this.bounds;
    if (maxEntries === 0 || (maxBytes !== undefined && bytes > maxBytes)) return false;
    if (previous === undefined) {
      this.counts.loads++;
      if (this.ghosts.delete(key)) this.counts.reloads++;
    }
    this.makeRoom(1, bytes, now);
    this.entries.set(key, { value, bytes, at: now });
    this.totalBytes += bytes;
    return true;
  }

  /** Estimates the entry's bytes again (its value grew or shrank in place), then evicts others should that pass a bound. */
  resize(key: K, now = Date.now()): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    const bytes = this.sizeOf(entry.value);
    this.totalBytes += bytes - entry.bytes;
    entry.bytes = bytes;
    this.makeRoom(0, 0, now, key);
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.remove(key, entry, 'deleted');
    return true;
  }

  /** Drops every entry whose key matches; answers how many. */
  deleteWhere(matches: (key: K) => boolean): number {
    let count = 0;
    for (const [key, entry] of this.entries) {
      if (matches(key)) {
        this.remove(key, entry, 'deleted');
        count++;
      }
    }
    return count;
  }

  clear(): void {
    for (const [key, entry] of this.entries) this.remove(key, entry, 'cleared');
    this.ghosts.clear();
  }

  /** Drops expired entries and evicts down to the bounds (for entries that became evictable since). */
  trim(now = Date.now()): void {
    if (this.bounds.maxAgeMs !== undefined) {
      for (const [key, entry] of this.entries) if (this.expired(entry, now)) this.remove(key, entry, 'expired');
    }
    this.makeRoom(0, 0, now);
  }

  private live(key: K, now: number): Entry<V> | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (!this.expired(entry, now)) return entry;
    this.remove(key, entry, 'expired');
    return undefined;
  }

  private expired(entry: Entry<V>, now: number): boolean {
    return this.bounds.maxAgeMs !== undefined && now - entry.at >= this.bounds.maxAgeMs;
  }

  private sizeOf(value: V): number {
    const bytes = this.hooks.sizeOf?.(value) ?? 0;
    return Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
  }

  private over(extraEntries: number, extraBytes: number): boolean {
    const { maxEntries, maxBytes } = this.bounds;
    return this.entries.size + extraEntries > maxEntries || (maxBytes !== undefined && this.totalBytes + extraBytes > maxBytes);
  }

  /** Evicts least recently used entries (expired ones count as such) until `extra` fits; `keep` is never evicted. */
  private makeRoom(extraEntries: number, extraBytes: number, now: number, keep?: K): void {
    if (!this.over(extraEntries, extraBytes)) return;
    for (const [key, entry] of this.entries) {
      if (!this.over(extraEntries, extraBytes)) return;
      if (key === keep || this.hooks.evictable?.(entry.value) === false) continue;
      this.remove(key, entry, this.expired(entry, now) ? 'expired' : 'capacity');
    }
  }

  private remove(key: K, entry: Entry<V>, reason: EvictionReason): void {
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
    if (reason === 'capacity') this.counts.evictions++;
    if (reason === 'expired') this.counts.expirations++;
    if (reason === 'capacity' || reason === 'expired') this.remember(key);
    this.hooks.onEvict?.(key, entry.value, reason);
  }

  private remember(key: K): void {
    this.ghosts.delete(key);
    this.ghosts.set(key, true);
    if (this.ghosts.size > Math.min(MAX_GHOSTS, Math.max(1_000, this.bounds.maxEntries))) {
      const oldest = this.ghosts.keys().next();
      if (oldest.done !== true) this.ghosts.delete(oldest.value);
    }
  }
}
