interface Entry {
  readonly material: Buffer;
  readonly expires: number;
}

/**
 * Unwrapped key material, bounded in count and age. Every buffer that leaves the cache (evicted,
 * expired, forgotten) is zeroed. Callers use a buffer synchronously right after `get`; the cache
 * never zeroes during that window because nothing else runs on the event loop meanwhile.
 */
export class MaterialCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(id: string, now = Date.now()): Buffer | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.expires <= now) {
      this.drop(id, entry);
      return undefined;
    }
    return entry.material;
  }

  /** Keeps `material` (the cache owns it from now on and zeroes it when it goes). */
  set(id: string, material: Buffer, now = Date.now()): void {
    if (this.maxEntries === 0) return;
    const previous = this.entries.get(id);
    if (previous) this.drop(id, previous);
    while (this.entries.size >= this.maxEntries) {
      const [oldestId, oldest] = this.entries.entries().next().value as [string, Entry];
      this.drop(oldestId, oldest);
    }
    this.entries.set(id, { material, expires: now + this.ttlMs });
  }

  /** Forgets (and zeroes) every entry whose id starts with `prefix`. */
  forget(prefix: string): number {
    let count = 0;
    for (const [id, entry] of this.entries) {
      if (id.startsWith(prefix)) {
        this.drop(id, entry);
        count++;
      }
    }
    return count;
  }

  clear(): void {
    for (const [id, entry] of this.entries) this.drop(id, entry);
  }

  private drop(id: string, entry: Entry): void {
    this.entries.delete(id);
    entry.material.fill(0);
  }
}
