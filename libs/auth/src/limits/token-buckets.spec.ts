import { TokenBuckets } from './token-buckets';

describe('TokenBuckets', () => {
  let clock = 0;
  const now = (): number => clock;
  beforeEach(() => (clock = 0));

  it('grants the burst at once, then refuses with the time until the next token', () => {
    const buckets = new TokenBuckets(2, 3, 100, now);
    for (let i = 0; i < 3; i++) {
      expect(buckets.waitMs('a')).toBe(0);
      buckets.take('a');
    }
    expect(buckets.waitMs('a')).toBe(500);
    clock = 250;
    expect(buckets.waitMs('a')).toBe(250);
    clock = 500;
    expect(buckets.waitMs('a')).toBe(0);
  });

  it('refills at the rate, never beyond the capacity, and keeps keys apart', () => {
    const buckets = new TokenBuckets(10, 5, 100, now);
    for (let i = 0; i < 5; i++) buckets.take('a');
    expect(buckets.waitMs('b')).toBe(0);
    clock = 10_000;
    for (let i = 0; i < 5; i++) {
      expect(buckets.waitMs('a')).toBe(0);
      buckets.take('a');
    }
    expect(buckets.waitMs('a')).toBeGreaterThan(0);
  });

  it('stays bounded: full buckets go first, then the oldest', () => {
    const buckets = new TokenBuckets(1, 2, 10, now);
    for (let i = 0; i < 10; i++) buckets.take(`k${i}`);
    expect(buckets.size).toBe(10);
    buckets.take('new');
    expect(buckets.size).toBeLessThanOrEqual(10);
    clock = 5_000; // everything refilled: nothing worth keeping
    buckets.take('newer');
    expect(buckets.size).toBeLessThanOrEqual(2);
  });

  it('refuses a meaningless configuration', () => {
    expect(() => new TokenBuckets(0, 1)).toThrow();
    expect(() => new TokenBuckets(1, 0)).toThrow();
  });
});
