import { MaterialCache } from './material-cache';

const filled = (byte: number): Buffer => Buffer.alloc(32, byte);
const zeroed = (b: Buffer): boolean => b.every((x) => x === 0);

/** Caches `material` and answers the copy the cache keeps. */
function cached(cache: MaterialCache, id: string, material: Buffer, now = Date.now()): Buffer {
  expect(cache.set(id, material, now)).toBe(true);
  return cache.get(id, now)!;
}

describe('MaterialCache', () => {
  it('keeps a copy in memory of its own, never a slice of a shared pool slab, and zeroes what it was given', () => {
    const cache = new MaterialCache(10, 60_000);
    // Buffer.concat of small buffers answers a slice of Buffer's shared pool (64 KiB slabs on Node 24).
    const material = Buffer.concat([filled(7).subarray(0, 16), filled(7).subarray(0, 16)]);
    expect(material.buffer.byteLength).toBeGreaterThan(material.length);
    const kept = cached(cache, 't|a|1|k', material);
    expect(kept.buffer.byteLength).toBe(32);
    expect(kept.byteOffset).toBe(0);
    expect(kept.equals(filled(7))).toBe(true);
    expect(zeroed(material)).toBe(true);
  });

  it('evicts the least recently used material beyond its bound and zeroes it', () => {
    const cache = new MaterialCache(2, 60_000);
    const a = cached(cache, 't|a|1|k', filled(1), 0);
    const b = cached(cache, 't|b|1|k', filled(2), 0);
    expect(cache.get('t|a|1|k', 1)).toBe(a); // a used: b is now the least recently used
    const c = cached(cache, 't|c|1|k', filled(3), 2);
    expect([zeroed(a), zeroed(b), zeroed(c)]).toEqual([false, true, false]);
    expect(cache.get('t|b|1|k', 3)).toBeUndefined();
  });

  it('zeroes expired material on access and on expire(), without being asked for it', () => {
    const cache = new MaterialCache(10, 1_000);
    const a = cached(cache, 't|a|1|k', filled(1), 0);
    const b = cached(cache, 't|b|1|k', filled(2), 500);
    expect(cache.get('t|a|1|k', 1_000)).toBeUndefined();
    expect(zeroed(a)).toBe(true);
    cache.expire(1_500);
    expect(zeroed(b)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('zeroes the copy it held when the same version is cached again', () => {
    const cache = new MaterialCache(10, 60_000);
    const first = cached(cache, 't|a|1|k', filled(1));
    const second = cached(cache, 't|a|1|k', filled(1));
    expect(second).not.toBe(first);
    expect([zeroed(first), zeroed(second)]).toEqual([true, false]);
  });

  it('keeps nothing with 0 entries and leaves the buffer to the caller (who zeroes it)', () => {
    const cache = new MaterialCache(0, 60_000);
    const a = filled(1);
    expect(cache.set('t|a|1|k', a)).toBe(false);
    expect(zeroed(a)).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('forgets a key or a tenant by prefix, zeroing what it held, and zeroes everything when cleared', () => {
    const cache = new MaterialCache(10, 60_000);
    const kek = cached(cache, 't|', filled(9));
    const a1 = cached(cache, 't|a|1|k', filled(1));
    const a2 = cached(cache, 't|a|2|k', filled(2));
    const b1 = cached(cache, 't|b|1|k', filled(3));
    const other = cached(cache, 'u|a|1|k', filled(4));
    expect(cache.forget('t|a|')).toBe(2);
    expect([zeroed(a1), zeroed(a2), zeroed(b1)]).toEqual([true, true, false]);
    expect(cache.forget('t|')).toBe(2);
    expect([zeroed(kek), zeroed(b1), zeroed(other)]).toEqual([true, true, false]);
    cache.clear();
    expect(zeroed(other)).toBe(true);
  });
});
