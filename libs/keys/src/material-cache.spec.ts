import { MaterialCache } from './material-cache';

const filled = (byte: number): Buffer => Buffer.alloc(32, byte);
const zeroed = (b: Buffer): boolean => b.every((x) => x === 0);

describe('MaterialCache', () => {
  it('evicts the least recently used material beyond its bound and zeroes it', () => {
    const cache = new MaterialCache(2, 60_000);
    const [a, b, c] = [filled(1), filled(2), filled(3)];
    cache.set('t|a|1|k', a, 0);
    cache.set('t|b|1|k', b, 0);
    expect(cache.get('t|a|1|k', 1)).toBe(a); // a used: b is now the least recently used
    cache.set('t|c|1|k', c, 2);
    expect([zeroed(a), zeroed(b), zeroed(c)]).toEqual([false, true, false]);
    expect(cache.get('t|b|1|k', 3)).toBeUndefined();
  });

  it('zeroes expired material on access and on expire(), without being asked for it', () => {
    const cache = new MaterialCache(10, 1_000);
    const [a, b] = [filled(1), filled(2)];
    cache.set('t|a|1|k', a, 0);
    cache.set('t|b|1|k', b, 500);
    expect(cache.get('t|a|1|k', 1_000)).toBeUndefined();
    expect(zeroed(a)).toBe(true);
    cache.expire(1_500);
    expect(zeroed(b)).toBe(true);
    expect(cache.size).toBe(0);
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
    const kek = filled(9);
    const [a1, a2, b1, other] = [filled(1), filled(2), filled(3), filled(4)];
    cache.set('t|', kek);
    cache.set('t|a|1|k', a1);
    cache.set('t|a|2|k', a2);
    cache.set('t|b|1|k', b1);
    cache.set('u|a|1|k', other);
    expect(cache.forget('t|a|')).toBe(2);
    expect([zeroed(a1), zeroed(a2), zeroed(b1)]).toEqual([true, true, false]);
    expect(cache.forget('t|')).toBe(2);
    expect([zeroed(kek), zeroed(b1), zeroed(other)]).toEqual([true, true, false]);
    cache.clear();
    expect(zeroed(other)).toBe(true);
  });
});
