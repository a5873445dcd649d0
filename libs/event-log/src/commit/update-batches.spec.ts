import { inBatches, MAX_STATEMENTS_IN_FLIGHT, MAX_UPDATES_PER_COMMAND, StatementBudget, writeInBatches } from './update-batches';

describe('inBatches', () => {
  it('cuts into consecutive slices of at most the size, keeping every item in order', () => {
    const items = Array.from({ length: 2 * MAX_UPDATES_PER_COMMAND + 3 }, (_, i) => i);
    const batches = inBatches(items);
    expect(batches.map((b) => b.length)).toEqual([MAX_UPDATES_PER_COMMAND, MAX_UPDATES_PER_COMMAND, 3]);
    expect(batches.flat()).toEqual(items);
  });

  it('stays below the 100 open result sets that deadlock FerretDB', () => {
    expect(MAX_UPDATES_PER_COMMAND).toBeLessThan(100);
  });

  it('gives no batch for no items, and refuses sizes that cannot cut', () => {
    expect(inBatches([])).toEqual([]);
    expect(inBatches([1, 2, 3], 2)).toEqual([[1, 2], [3]]);
    for (const bad of [0, -1, 1.5]) expect(() => inBatches([1], bad)).toThrow(RangeError);
  });
});

describe('StatementBudget and writeInBatches', () => {
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('never lets concurrent writers hold more statements than the budget, and serves waiters in order', async () => {
    const budget = new StatementBudget(20);
    let held = 0;
    let peak = 0;
    const order: string[] = [];
    const writer = (name: string, items: number) =>
      writeInBatches(
        Array.from({ length: items }, (_, i) => i),
        async (batch) => {
          held += batch.length;
          peak = Math.max(peak, held);
          order.push(`${name}:${batch.length}`);
          await tick();
          held -= batch.length;
        },
        10,
        budget,
      );
    await Promise.all([writer('a', 35), writer('b', 35), writer('c', 35), writer('d', 10)]);
    expect(peak).toBeLessThanOrEqual(20);
    expect(peak).toBe(20); // two commands of 10 at once: the budget is used, not just respected
    expect(budget.inFlight).toBe(0);
    expect(order.filter((o) => o.startsWith('a')).map((o) => Number(o.split(':')[1]))).toEqual([10, 10, 10, 5]);
    expect(order.length).toBe(4 + 4 + 4 + 1);
  });

  it('gives the statements back when a write fails', async () => {
    const budget = new StatementBudget(10);
    await expect(budget.run(10, () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect(budget.inFlight).toBe(0);
    await expect(budget.run(10, () => Promise.resolve('ok'))).resolves.toBe('ok');
  });

  it('keeps the process budget and each command below the pool of 100 that deadlocks FerretDB', () => {
    expect(MAX_UPDATES_PER_COMMAND).toBeLessThanOrEqual(MAX_STATEMENTS_IN_FLIGHT);
    expect(MAX_STATEMENTS_IN_FLIGHT * 4).toBeLessThan(100);
  });
});
