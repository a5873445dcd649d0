import { inBatches, MAX_UPDATES_PER_COMMAND } from './update-batches';

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
