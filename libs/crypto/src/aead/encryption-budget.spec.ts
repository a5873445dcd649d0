import { EncryptionBudget, EncryptionBudgetExhausted } from './encryption-budget';

/** A shared counter as the store keeps it: atomic increments, with a count of writes. */
class SharedCounter {
  total = 0;
  writes = 0;
  readonly reserve = (count: number): Promise<number> => {
    this.writes += 1;
    this.total += count;
    return Promise.resolve(this.total);
  };
}

const take = async (budget: EncryptionBudget, store: SharedCounter, times: number, id = 'v1'): Promise<number> => {
  let made = 0;
  for (let i = 0; i < times; i++) {
    try {
      await budget.take(id, store.reserve);
      made += 1;
    } catch (err: unknown) {
      if (!(err instanceof EncryptionBudgetExhausted)) throw err;
    }
  }
  return made;
};

describe('EncryptionBudget (AES-GCM encryptions per key version)', () => {
  it('allows exactly `limit` encryptions, then refuses every further one', async () => {
    const store = new SharedCounter();
    const budget = new EncryptionBudget({ limit: 10, block: 4, maxEntries: 10 });
    expect(await take(budget, store, 10)).toBe(10);
    await expect(budget.take('v1', store.reserve)).rejects.toBeInstanceOf(EncryptionBudgetExhausted);
    await expect(budget.take('v1', store.reserve)).rejects.toMatchObject({ id: 'v1', limit: 10 });
  });

  it('writes to the store once per block, not per encryption, and stops writing once exhausted', async () => {
    const store = new SharedCounter();
    const budget = new EncryptionBudget({ limit: 1000, block: 100, maxEntries: 10 });
    expect(await take(budget, store, 1000)).toBe(1000);
    expect(store.writes).toBe(10);
    expect(await take(budget, store, 50)).toBe(0);
    expect(store.writes).toBe(11); // the reservation that found the limit reached; none after it
  });

  it('holds the limit across instances and restarts sharing one store: forfeited ranges are never reused', async () => {
    const store = new SharedCounter();
    const options = { limit: 25, block: 4, maxEntries: 10 };
    const a = new EncryptionBudget(options);
    const b = new EncryptionBudget(options);
    let made = (await take(a, store, 3)) + (await take(b, store, 5)) + (await take(a, store, 2));
    const restarted = new EncryptionBudget(options); // a's unused rest is forfeited
    made += await take(restarted, store, 100);
    made += (await take(a, store, 100)) + (await take(b, store, 100));
    expect(made).toBeLessThanOrEqual(25);
    expect(made).toBeGreaterThanOrEqual(25 - 3 * 4);
  });

  it('counts key versions separately (a rotation starts a fresh budget)', async () => {
    const v1 = new SharedCounter();
    const v2 = new SharedCounter();
    const budget = new EncryptionBudget({ limit: 3, block: 2, maxEntries: 10 });
    expect(await take(budget, v1, 5, 'v1')).toBe(3);
    expect(await take(budget, v2, 5, 'v2')).toBe(3);
  });

  it('shares one reservation among concurrent callers', async () => {
    const store = new SharedCounter();
    const budget = new EncryptionBudget({ limit: 100, block: 50, maxEntries: 10 });
    await Promise.all(Array.from({ length: 40 }, () => budget.take('v1', store.reserve)));
    expect(store.writes).toBe(1);
    expect(budget.inHand('v1')).toBe(10);
  });

  it('evicts the oldest version beyond maxEntries, forfeiting its range', async () => {
    const store = new SharedCounter();
    const budget = new EncryptionBudget({ limit: 100, block: 10, maxEntries: 2 });
    await budget.take('a', store.reserve);
    await budget.take('b', store.reserve);
    await budget.take('c', store.reserve);
    expect(budget.inHand('a')).toBe(0);
    expect(budget.inHand('c')).toBe(9);
  });

  it('does not count a failed reservation and tries again on the next call', async () => {
    const budget = new EncryptionBudget({ limit: 10, block: 5, maxEntries: 10 });
    await expect(budget.take('v1', () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    const store = new SharedCounter();
    await budget.take('v1', store.reserve);
    expect(budget.inHand('v1')).toBe(4);
  });
});
