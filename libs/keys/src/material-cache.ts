import { BoundedCache } from '@keyward/event-log';

/** Bytes a cached buffer costs beyond its length (entry, key string, Buffer object): an estimate. */
const ENTRY_OVERHEAD = 160;

/**
 * Unwrapped key material, bounded in count and age (the one cache policy: BoundedCache, least
 * recently used first). Every buffer that leaves the cache (evicted, expired, replaced, forgotten,
 * cleared) is zeroed. Callers use a buffer synchronously right after `get`; the cache never zeroes
 * during that window because nothing else runs on the event loop meanwhile.
 */
export class MaterialCache {
  readonly entries: BoundedCache<string, Buffer>;

  constructor(maxEntries: number, ttlMs: number) {
    this.entries = new BoundedCache<string, Buffer>(
      { maxEntries, maxAgeMs: ttlMs },
      { sizeOf: (material) => material.length + ENTRY_OVERHEAD, onEvict: (_id, material) => material.fill(0) },
    );
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string, now = Date.now()): Buffer | undefined {
    return this.entries.get(id, now);
  }

  /** Keeps `material` (the cache owns it from now on and zeroes it when it goes); false: not kept, still the caller's. */
  set(id: string, material: Buffer, now = Date.now()): boolean {
    return this.entries.set(id, material, now);
  }

  /** Forgets (and zeroes) every entry whose id starts with `prefix`. */
  forget(prefix: string): number {
    return this.entries.deleteWhere((id) => id.startsWith(prefix));
  }

  /** Zeroes what has expired (a timer calls it: plaintext never outlives its age only because nobody asked for it). */
  expire(now = Date.now()): void {
    this.entries.trim(now);
  }

  clear(): void {
    this.entries.clear();
  }
}
