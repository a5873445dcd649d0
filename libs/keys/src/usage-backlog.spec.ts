import { FAIL_CLOSED_HEADROOM, UsageBacklog, type BacklogLimits } from './usage-backlog';

interface Rec {
  readonly tenantId: string;
  readonly n: number;
}

const limits = (over: Partial<BacklogLimits> = {}): BacklogLimits => ({ tenantMax: 10, totalMax: 100, policy: 'fail-closed', ...over });
const fill = (backlog: UsageBacklog<Rec>, tenantId: string, count: number, from = 0) => {
  for (let i = 0; i < count; i++) backlog.push({ tenantId, n: from + i });
};
const ns = (records: readonly Rec[]) => records.map((r) => r.n);

describe('usage backlog (per tenant)', () => {
  it("fail-open: a tenant's flood drops only that tenant's oldest records, never another tenant's", () => {
    const backlog = new UsageBacklog<Rec>(limits({ policy: 'fail-open' }));
    fill(backlog, 'b', 5);
    fill(backlog, 'a', 1_000);
    expect(backlog.sizeOf('b')).toBe(5);
    expect(backlog.sizeOf('a')).toBe(10);
    expect(backlog.dropped).toBe(990);
    const taken = backlog.take(1_000);
    expect(ns(taken.find((t) => t.tenantId === 'b')!.records)).toEqual([0, 1, 2, 3, 4]);
    expect(ns(taken.find((t) => t.tenantId === 'a')!.records)).toEqual([990, 991, 992, 993, 994, 995, 996, 997, 998, 999]);
    expect(backlog.admits('a')).toBe(true);
  });

  it('fail-closed: refuses a tenant at its bound, admits the others, and admits it again once its backlog is taken', () => {
    const backlog = new UsageBacklog<Rec>(limits());
    fill(backlog, 'a', 9);
    expect(backlog.admits('a')).toBe(true);
    fill(backlog, 'a', 1, 9);
    expect(backlog.admits('a')).toBe(false);
    expect(backlog.admits('b')).toBe(true);
    backlog.take(5);
    expect(backlog.admits('a')).toBe(true);
  });

  it('fail-closed: keeps records of operations admitted before the bound (headroom), then drops the oldest of that tenant', () => {
    const backlog = new UsageBacklog<Rec>(limits());
    fill(backlog, 'a', 10 * FAIL_CLOSED_HEADROOM);
    expect(backlog.dropped).toBe(0);
    fill(backlog, 'a', 1, 1_000);
    expect(backlog.dropped).toBe(1);
    expect(ns(backlog.take(1)[0]!.records)).toEqual([1]);
  });

  it('fail-closed: when all tenants together reach the overall bound, refuses the largest backlogs first', () => {
    const backlog = new UsageBacklog<Rec>(limits({ tenantMax: 100, totalMax: 20 }));
    fill(backlog, 'a', 15);
    fill(backlog, 'b', 5);
    expect(backlog.admits('a')).toBe(false);
    expect(backlog.admits('b')).toBe(true);
    expect(backlog.admits('c')).toBe(true);
  });

  it('takes fairly: each tenant gets an equal share of a flush, a small tenant leaves its unused share to the others', () => {
    const backlog = new UsageBacklog<Rec>(limits({ tenantMax: 10_000, totalMax: 100_000 }));
    fill(backlog, 'a', 1_000);
    fill(backlog, 'b', 1_000);
    fill(backlog, 'c', 10);
    const taken = backlog.take(300);
    const sizes = Object.fromEntries(taken.map((t) => [t.tenantId, t.records.length]));
    expect(sizes).toEqual({ a: 145, b: 145, c: 10 });
    expect(ns(taken.find((t) => t.tenantId === 'a')!.records)).toEqual(Array.from({ length: 145 }, (_, i) => i));
    expect(backlog.size).toBe(1_710);
  });

  it('takes at most the cap of each tenant, none of a tenant capped at 0', () => {
    const backlog = new UsageBacklog<Rec>(limits());
    fill(backlog, 'a', 8);
    fill(backlog, 'b', 8);
    const taken = backlog.take(100, (t) => (t === 'a' ? 0 : 3));
    expect(taken).toEqual([{ tenantId: 'b', records: [0, 1, 2].map((n) => ({ tenantId: 'b', n })) }]);
    expect(backlog.sizeOf('a')).toBe(8);
  });

  it('puts batches back in front of what arrived since, in their order', () => {
    const backlog = new UsageBacklog<Rec>(limits());
    fill(backlog, 'a', 4);
    const taken = backlog.take(3);
    fill(backlog, 'a', 2, 10);
    backlog.putBack(taken);
    expect(ns(backlog.take(100)[0]!.records)).toEqual([0, 1, 2, 3, 10, 11]);
  });
});
