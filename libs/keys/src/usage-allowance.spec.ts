import { slotCount, slotUnits, UsageAllowances, UsageLimitReached, type ClaimSlot } from './usage-allowance';

/** A store of slots shared by several "processes": the first claim of a slot wins, as a unique insert does. */
function sharedStore(): { claim: ClaimSlot; claimed: Set<number> } {
  const claimed = new Set<number>();
  return {
    claimed,
    claim: (slot) => {
      const won = !claimed.has(slot);
      claimed.add(slot);
      return new Promise((resolve) => setImmediate(() => resolve(won)));
    },
  };
}

describe('UsageAllowances (Usage Limits across processes)', () => {
  it('cuts a total into at most 64 slots that add up to it', () => {
    for (const total of [1, 16, 63, 64, 65, 1000, 2 ** 40 + 7]) {
      const limits = { total, unit: 'byte' } as const;
      const n = slotCount(limits);
      expect(n).toBeLessThanOrEqual(64);
      let sum = 0;
      for (let i = 0; i < n; i++) sum += slotUnits(limits, i);
      expect(sum).toBe(total);
    }
  });

  it('allows exactly the total in one process, then refuses', async () => {
    const store = sharedStore();
    const limits = { total: 16, unit: 'byte' } as const;
    const allowances = new UsageAllowances(10);
    await allowances.spend('k', limits, 16, store.claim);
    await expect(allowances.spend('k', limits, 16, store.claim)).rejects.toBeInstanceOf(UsageLimitReached);
    await expect(allowances.spend('k', limits, 1, store.claim)).rejects.toBeInstanceOf(UsageLimitReached);
    // Nothing spent costs nothing.
    await allowances.spend('k', limits, 0, store.claim);
  });

  it('never lets several processes together spend more than the total, whatever the interleaving', async () => {
    const store = sharedStore();
    const limits = { total: 1000, unit: 'byte' } as const;
    const processes = [new UsageAllowances(10), new UsageAllowances(10), new UsageAllowances(10)];
    let spent = 0;
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        processes[i % 3]!.spend('k', limits, 7, store.claim).then(
          () => (spent += 7),
          (err: unknown) => expect(err).toBeInstanceOf(UsageLimitReached),
        ),
      ),
    );
    expect(spent).toBeLessThanOrEqual(1000);
    // A little early at most: each process may keep less than one use's worth plus one slot unspent.
    expect(spent).toBeGreaterThan(1000 - 3 * (16 + 7));
  });

  it('a restarted process does not get the slots its earlier life claimed', async () => {
    const store = sharedStore();
    const limits = { total: 64, unit: 'object' } as const;
    await new UsageAllowances(10).spend('k', limits, 1, store.claim);
    const restarted = new UsageAllowances(10);
    let ok = 0;
    for (let i = 0; i < 70; i++)
      await restarted.spend('k', limits, 1, store.claim).then(
        () => (ok += 1),
        () => undefined,
      );
    expect(ok).toBe(63);
  });
});
