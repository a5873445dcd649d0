import { BoundedCache } from '@keyward/event-log';

/** Bytes a cached buffer costs beyond its length (entry, key string, Buffer object): an estimate. */
const ENTRY_OVERHEAD = 160;

/**
 * Unwrapped key material, bounded in count and age (the one cache policy: BoundedCache, least
 * recently used first). It holds copies of its own (see `set`), and every buffer that leaves it
 * (evicted, expired, replaced, forgotten, cleared) is zeroed. Callers use a buffer synchronously
 * right after `get`; the cache never zeroes during that window because nothing else runs on the
 * event loop meanwhile.
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

  /**
   * Keeps a copy of `material` in an ArrayBuffer of its own and zeroes `material` (true); or keeps
   * nothing and leaves `material` untouched, still the caller's to zero (false). The copy because a
   * small Buffer (Buffer.concat, allocUnsafe) is a slice of a shared pool slab (Buffer.poolSize: 64
   * KiB on Node 24, 8 KiB on Node 20): each cached 32-byte version kept its whole slab alive, 64 KiB
   * where the bounds count 192 bytes, so 10,000 entries could hold 640 MiB, and key-api's external
   * memory rose by about 1.4 MiB a minute under the soak's load (docs/high-availability.md). The
   * slab also held other requests' buffers beside the plaintext key; the copy shares its memory with
   * nothing.
   */
  set(id: string, material: Buffer, now = Date.now()): boolean {
    const owned = Buffer.allocUnsafeSlow(material.length);
    material.copy(owned);
    if (!this.entries.set(id, owned, now)) {
      owned.fill(0);
      return false;
    }
    material.fill(0);
    return true;
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
