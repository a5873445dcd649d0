import { BoundedCache, type EvictionReason } from './bounded-cache';

interface Value {
  bytes: number;
  busy?: boolean;
}

function cache(bounds: ConstructorParameters<typeof BoundedCache>[0]) {
  const evicted: [string, EvictionReason][] = [];
  const c = new BoundedCache<string, Value>(bounds, {
    sizeOf: (v) => v.bytes,
    evictable: (v) => v.busy !== true,
    onEvict: (key, _v, reason) => evicted.push([key, reason]),
  });
  return { c, evicted };
}

describe('BoundedCache', () => {
  it('evicts the least recently used entry beyond maxEntries (a get counts as a use, a peek does not)', () => {
    const { c, evicted } = cache({ maxEntries: 3 });
    c.set('a', { bytes: 1 });
    c.set('b', { bytes: 1 });
    c.set('c', { bytes: 1 });
    c.get('a'); // a is now the most recently used: b goes first
    c.peek('b');
    c.set('d', { bytes: 1 });
    expect(evicted).toEqual([['b', 'capacity']]);
    c.set('e', { bytes: 1 });
    expect(evicted.map(([k]) => k)).toEqual(['b', 'c']);
    expect([...['a', 'd', 'e']].every((k) => c.has(k))).toBe(true);
    expect(c.stats()).toMatchObject({ entries: 3, evictions: 2, loads: 5, reloads: 0 });
  });

  it('accounts bytes and evicts by them, oldest first, until the new entry fits', () => {
    const { c, evicted } = cache({ maxEntries: 100, maxBytes: 100 });
    c.set('a', { bytes: 40 });
    c.set('b', { bytes: 40 });
    expect(c.bytes).toBe(80);
    c.set('c', { bytes: 50 }); // 130 > 100: a goes, 90 left
    expect(evicted).toEqual([['a', 'capacity']]);
    expect(c.bytes).toBe(90);
    c.delete('b');
    expect(c.bytes).toBe(50);
    expect(evicted).toEqual([
      ['a', 'capacity'],
      ['b', 'deleted'],
    ]);
  });

  it('refuses a value larger than maxBytes alone, and keeps nothing with maxEntries 0 (the value stays the caller’s)', () => {
    const { c, evicted } = cache({ maxEntries: 10, maxBytes: 10 });
    expect(c.set('big', { bytes: 11 })).toBe(false);
    expect(c.has('big')).toBe(false);
    const none = cache({ maxEntries: 0 });
    expect(none.c.set('a', { bytes: 1 })).toBe(false);
    expect(none.c.size).toBe(0);
    expect([...evicted, ...none.evicted]).toEqual([]);
  });

  it('re-estimates an entry that grew in place and evicts others for it, never the entry itself', () => {
    const { c, evicted } = cache({ maxEntries: 10, maxBytes: 100 });
    const growing = { bytes: 10 };
    c.set('a', { bytes: 30 });
    c.set('b', { bytes: 30 });
    c.set('grows', growing);
    growing.bytes = 90;
    c.resize('grows');
    expect(evicted).toEqual([
      ['a', 'capacity'],
      ['b', 'capacity'],
    ]);
    expect(c.bytes).toBe(90);
    growing.bytes = 150; // alone beyond the bound: kept until another entry needs room
    c.resize('grows');
    expect(c.has('grows')).toBe(true);
    c.set('next', { bytes: 5 });
    expect(c.has('grows')).toBe(false);
  });

  it('never evicts an entry that is not evictable: the bound is exceeded until it is released', () => {
    const { c, evicted } = cache({ maxEntries: 2 });
    const busy: Value = { bytes: 1, busy: true };
    c.set('busy', busy);
    c.set('b', { bytes: 1 });
    c.set('c', { bytes: 1 }); // busy is the oldest but stays: b goes
    expect(evicted).toEqual([['b', 'capacity']]);
    c.set('d', { bytes: 1 }); // only c can go
    expect(c.size).toBe(2);
    c.set('e', { bytes: 1, busy: true });
    c.set('f', { bytes: 1, busy: true });
    expect(c.size).toBe(3); // busy, e and f: nothing evictable
    busy.busy = false;
    c.trim();
    expect(c.has('busy')).toBe(false);
  });

  it('expires entries by age: on access, on trim, and first when room is needed', () => {
    const { c, evicted } = cache({ maxEntries: 10, maxAgeMs: 1_000 });
    c.set('a', { bytes: 1 }, 0);
    c.set('b', { bytes: 1 }, 500);
    expect(c.get('a', 999)).toBeDefined();
    expect(c.get('a', 1_000)).toBeUndefined();
    c.trim(1_500);
    expect(evicted).toEqual([
      ['a', 'expired'],
      ['b', 'expired'],
    ]);
    expect(c.stats()).toMatchObject({ entries: 0, expirations: 2, evictions: 0 });
  });

  it('counts a load of a key it evicted before as a reload (the cost of the bound)', () => {
    const { c } = cache({ maxEntries: 1 });
    c.set('a', { bytes: 1 });
    c.set('b', { bytes: 1 }); // a evicted
    c.set('a', { bytes: 1 }); // reloaded, b evicted
    c.set('c', { bytes: 1 }); // never seen: a load, not a reload
    expect(c.stats()).toMatchObject({ loads: 4, reloads: 1, evictions: 3 });
    c.delete('c');
    c.set('c', { bytes: 1 }); // deleted on purpose, not evicted: not a reload
    expect(c.stats().reloads).toBe(1);
  });

  it('replacing a key hands the old value to onEvict once; setting the same value again does not', () => {
    const { c, evicted } = cache({ maxEntries: 5 });
    const v: Value = { bytes: 1 };
    c.set('a', v);
    expect(c.set('a', v)).toBe(true);
    expect(evicted).toEqual([]);
    c.set('a', { bytes: 2 });
    expect(evicted).toEqual([['a', 'deleted']]);
    expect(c.bytes).toBe(2);
    expect(c.stats().loads).toBe(1);
  });

  it('deletes by key predicate and clears, calling onEvict for each', () => {
    const { c, evicted } = cache({ maxEntries: 10 });
    for (const k of ['t1|a', 't1|b', 't2|a']) c.set(k, { bytes: 1 });
    expect(c.deleteWhere((k) => k.startsWith('t1|'))).toBe(2);
    c.clear();
    expect(evicted.map(([k, r]) => `${k}:${r}`)).toEqual(['t1|a:deleted', 't1|b:deleted', 't2|a:cleared']);
    expect(c.bytes).toBe(0);
  });

  it('refuses negative bounds', () => {
    expect(() => new BoundedCache({ maxEntries: -1 })).toThrow(RangeError);
    expect(() => new BoundedCache({ maxEntries: 1, maxBytes: -1 })).toThrow(RangeError);
  });
});
