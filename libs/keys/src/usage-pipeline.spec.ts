import type { TenantBatch } from './usage-backlog';
import type { OutboxBatch } from './usage-outbox';
import { UsagePipeline, type PipelineOptions, type UsageStore, type UsageTopic } from './usage-pipeline';

interface Rec {
  readonly tenantId: string;
  readonly n: number;
}

/** The usage topic, in memory: what it received, in order; `down` makes it refuse. */
class FakeTopic implements UsageTopic<Rec> {
  readonly received: Rec[] = [];
  down = false;
  stall: Promise<void> | undefined;
  probe(): Promise<void> {
    return this.down ? Promise.reject(new Error('broker away')) : Promise.resolve();
  }
  async send(batches: readonly TenantBatch<Rec>[]): Promise<void> {
    if (this.stall) await this.stall;
    if (this.down) throw new Error('broker away');
    for (const b of batches) this.received.push(...b.records);
  }
  reset(): Promise<void> {
    return Promise.resolve();
  }
  of(tenantId: string): number[] {
    return this.received.filter((r) => r.tenantId === tenantId).map((r) => r.n);
  }
}

/** The outbox, in memory; `down` makes it refuse. */
class FakeStore implements UsageStore<Rec> {
  readonly batches = new Map<string, OutboxBatch<Rec>>();
  down = false;
  reads = 0;
  inserts = 0;
  /** Inserts take a turn of the event loop (as a store's round trip does) when set. */
  slow = false;
  async insert(batches: readonly OutboxBatch<Rec>[]): Promise<void> {
    if (this.down) throw new Error('store away');
    this.inserts++;
    if (this.slow) await new Promise((r) => setImmediate(r));
    for (const b of batches) this.batches.set(b._id, b);
  }
  oldestIds(limit: number): Promise<string[]> {
    this.reads++;
    if (this.down) return Promise.reject(new Error('store away'));
    return Promise.resolve([...this.batches.keys()].sort().slice(0, limit));
  }
  idReads = 0;
  byIds(ids: readonly string[]): Promise<OutboxBatch<Rec>[]> {
    this.idReads++;
    if (this.down) return Promise.reject(new Error('store away'));
    return Promise.resolve(ids.flatMap((id) => this.batches.get(id) ?? []));
  }
  remove(ids: readonly string[]): Promise<void> {
    if (this.down) return Promise.reject(new Error('store away'));
    for (const id of ids) this.batches.delete(id);
    return Promise.resolve();
  }
  get records(): number {
    return [...this.batches.values()].reduce((n, b) => n + b.records.length, 0);
  }
}

function setup(over: Partial<PipelineOptions> = {}) {
  const clock = { ms: 1_000_000 };
  const topic = new FakeTopic();
  const store = new FakeStore();
  const dropped: number[] = [];
  const pipeline = new UsagePipeline<Rec>(
    {
      policy: 'fail-closed',
      tenantMax: 20,
      totalMax: 1_000,
      outboxMax: 1_000,
      batchMax: 10_000,
      drainBatches: 2,
      sweepMs: 60_000,
      spillAfterMs: 1_000,
      instance: 'i1',
      now: () => clock.ms,
      ...over,
    },
    topic,
    store,
    { sent: () => undefined, outboxed: () => undefined, drained: () => undefined, dropped: (n) => dropped.push(n), warn: () => undefined },
  );
  let next = 0;
  const record = (tenantId: string, count = 1) => {
    for (let i = 0; i < count; i++) pipeline.record({ tenantId, n: next++ });
  };
  /** A flush after the retry back-off has passed. */
  const tick = async () => {
    clock.ms += 10_000;
    await pipeline.tick();
  };
  /** Makes the sends from now on hang until the returned function is called (they then go through). */
  const stallSends = (): (() => void) => {
    let release: () => void = () => undefined;
    topic.stall = new Promise<void>((r) => (release = r));
    return () => {
      topic.stall = undefined;
      release();
    };
  };
  return { pipeline, topic, store, clock, record, tick, dropped, stallSends };
}

describe('usage pipeline: memory → topic, or → outbox → topic', () => {
  it('sends straight to the topic while it takes records, writing nothing to the outbox', async () => {
    const { pipeline, topic, store, record, tick } = setup();
    record('a', 3);
    record('b', 2);
    await tick();
    expect(topic.of('a')).toEqual([0, 1, 2]);
    expect(topic.of('b')).toEqual([3, 4]);
    expect(store.batches.size).toBe(0);
    expect(pipeline.backlog.size).toBe(0);
  });

  it('stores records in the outbox while the topic is away, then drains them in order, once, before newer records', async () => {
    const { pipeline, topic, store, record, tick } = setup();
    record('a', 2);
    await tick();
    topic.down = true;
    record('a', 3);
    record('b', 1);
    await tick(); // the send fails: its batches go to the outbox
    record('a', 4);
    await tick(); // the topic is away: straight to the outbox
    expect(store.records).toBe(8);
    expect(pipeline.backlog.size).toBe(0);
    expect(pipeline.outboxRecords).toBe(8);
    const readsWhileAway = store.reads;
    await tick();
    await tick();
    expect(store.reads).toBe(readsWhileAway); // no outbox scans until the broker answers a probe

    topic.down = false;
    record('a', 2);
    await tick();
    await tick();
    expect(topic.of('a')).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]);
    expect(topic.of('b')).toEqual([5]);
    expect(store.batches.size).toBe(0);
    expect(pipeline.outboxRecords).toBe(0);
  });

  it('drains its own outboxed batches by id between sweeps: no read of the whole outbox', async () => {
    const { pipeline, topic, store, record, tick, stallSends } = setup({ drainBatches: 2, tenantMax: 4 });
    await tick(); // the start-up sweep
    const release = stallSends();
    record('x', 1);
    const first = pipeline.tick(); // a slow send
    await new Promise((r) => setImmediate(r));
    for (const t of ['a', 'b', 'c', 'd', 'e']) record(t, 3); // three quarters of tenantMax each
    await pipeline.tick(); // to the outbox: five batches
    expect(store.batches.size).toBe(5);
    release();
    await first;
    const sweeps = store.reads;
    await tick();
    expect(store.reads).toBe(sweeps); // within sweepMs of the last sweep: by id only
    expect(store.idReads).toBeGreaterThanOrEqual(3); // five batches, two per round
    expect(topic.of('a')).toEqual([1, 2, 3]);
    expect(topic.of('e')).toEqual([13, 14, 15]);
    expect(store.batches.size).toBe(0);
    expect(pipeline.outboxRecords).toBe(0);
  });

  it('fail-closed: refuses a tenant whose records neither the topic nor the outbox can take, only that tenant, until they can again', async () => {
    const { pipeline, topic, store, record, tick } = setup();
    topic.down = true;
    store.down = true;
    record('b', 3);
    record('a', 25);
    await tick();
    expect(pipeline.admits('a')).toBe(false);
    expect(pipeline.admits('b')).toBe(true);
    expect(pipeline.backlog.sizeOf('b')).toBe(3); // a's flood pushed out none of b's records

    store.down = false;
    await tick();
    expect(pipeline.admits('a')).toBe(true);
    expect(store.records).toBe(28);

    topic.down = false;
    await tick();
    expect(topic.of('b')).toEqual([0, 1, 2]);
    expect(topic.of('a')).toHaveLength(25);
  });

  it('fail-closed: a tenant whose outbox share is full is refused; the others still store theirs', async () => {
    const { pipeline, topic, store, record, tick } = setup({ outboxMax: 30 });
    topic.down = true;
    record('a', 30);
    await tick();
    record('a', 20);
    record('b', 5);
    await tick();
    await tick();
    expect(store.records).toBe(35);
    expect(pipeline.admits('a')).toBe(false);
    expect(pipeline.admits('b')).toBe(true);

    topic.down = false;
    await tick();
    await tick();
    expect(pipeline.admits('a')).toBe(true);
    expect(topic.of('a')).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('fail-open: admits every operation and drops only the flooding tenant’s oldest records', async () => {
    const { pipeline, topic, store, record, tick, dropped } = setup({ policy: 'fail-open' });
    topic.down = true;
    store.down = true;
    record('b', 2);
    record('a', 50);
    await tick();
    expect(pipeline.admits('a')).toBe(true);
    expect(dropped.reduce((x, y) => x + y, 0)).toBe(30);
    expect(pipeline.backlog.sizeOf('b')).toBe(2);
  });

  it('moves memory to the outbox while a send to the topic is stalled', async () => {
    const { pipeline, topic, store, record, clock, tick } = setup();
    await tick(); // the start-up sweep of the outbox
    let release: () => void = () => undefined;
    topic.stall = new Promise<void>((r) => (release = r));
    record('a', 2);
    const first = pipeline.tick(); // stalls in send
    record('a', 3);
    clock.ms += 200;
    await pipeline.tick(); // not stalled long yet: stays in memory
    expect(pipeline.backlog.sizeOf('a')).toBe(3);
    clock.ms += 2_000;
    await pipeline.tick();
    expect(store.records).toBe(3);
    topic.stall = undefined;
    release();
    await first;
    clock.ms += 10_000;
    await pipeline.tick();
    expect(topic.of('a')).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps records in memory while a send is slow but under way for less than spillAfterMs: nothing goes to the outbox', async () => {
    const { pipeline, topic, store, record, clock, tick, stallSends } = setup({ spillAfterMs: 10_000 });
    await tick(); // the start-up sweep of the outbox
    const release = stallSends();
    record('a', 2);
    const first = pipeline.tick(); // a slow send with records 0 and 1
    for (let i = 0; i < 12; i++) {
      record('a', 1); // up to 12 of tenantMax 20: more than half, less than three quarters
      clock.ms += 500;
      await pipeline.tick();
    }
    expect(store.inserts).toBe(0);
    expect(pipeline.backlog.sizeOf('a')).toBe(12);
    expect(pipeline.admits('a')).toBe(true);
    release();
    await first;
    await tick();
    expect(topic.of('a')).toEqual(Array.from({ length: 14 }, (_, i) => i));
    expect(store.inserts).toBe(0);
  });

  it('spills a tenant whose memory is three quarters full while a send is slow, before admission would refuse it', async () => {
    const { pipeline, topic, store, record, clock, tick, stallSends } = setup({ spillAfterMs: 10_000 });
    await tick();
    const release = stallSends();
    record('a', 1);
    const first = pipeline.tick();
    await new Promise((r) => setImmediate(r)); // the outbox lane of that flush is done
    record('a', 15); // tenantMax 20: three quarters
    record('b', 2);
    clock.ms += 100;
    await pipeline.tick();
    expect(store.records).toBe(15);
    expect(pipeline.backlog.sizeOf('b')).toBe(2); // b is not pressed: it waits for the topic
    expect(pipeline.admits('a')).toBe(true);
    release();
    await first;
    await tick();
    await tick();
    expect(topic.of('a')).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(topic.of('b')).toEqual([16, 17]);
  });

  it('sends a tenant straight to the topic again once its outboxed batches are drained, under a steady load (no spiral through the store)', async () => {
    const { pipeline, topic, store, record, tick } = setup();
    topic.down = true;
    record('a', 5);
    await tick(); // the send fails: to the outbox
    expect(store.records).toBe(5);
    topic.down = false;
    store.slow = true;
    for (let i = 0; i < 10; i++) {
      record('a', 3);
      await tick();
    }
    const inserts = store.inserts;
    for (let i = 0; i < 10; i++) {
      record('a', 3);
      await tick();
    }
    expect(store.inserts).toBe(inserts); // steady load, topic up: nothing more through the outbox
    expect(pipeline.outboxRecords).toBe(0);
    expect(topic.of('a')).toEqual(Array.from({ length: 65 }, (_, i) => i));
  });

  it('bounds memory while nothing takes records: the backlog stays within its bounds and their headroom, one flush at most on its way', async () => {
    const { pipeline, topic, store, record, clock } = setup({ tenantMax: 50, totalMax: 100, batchMax: 30 });
    topic.stall = new Promise(() => undefined); // a send that never ends
    store.down = true;
    let most = 0;
    for (let i = 0; i < 50; i++) {
      for (const t of ['a', 'b', 'c']) record(t, 20);
      clock.ms += 300;
      void pipeline.tick();
      await Promise.resolve();
      most = Math.max(most, pipeline.backlog.size);
      for (const t of ['a', 'b', 'c']) expect(pipeline.backlog.sizeOf(t)).toBeLessThanOrEqual(2 * 50);
    }
    expect(most).toBeLessThanOrEqual(2 * 100);
    expect(pipeline.admits('a')).toBe(false); // fail-closed: refused rather than unbounded
  });

  it('keeps the order when a stalled send fails after newer records filled the outbox share', async () => {
    const { pipeline, topic, store, record, clock, tick } = setup({ outboxMax: 5 });
    await tick(); // the start-up sweep of the outbox
    let release: () => void = () => undefined;
    topic.stall = new Promise<void>((r) => (release = r));
    record('a', 2);
    const first = pipeline.tick(); // stalls in send with records 0 and 1
    record('a', 5);
    clock.ms += 200;
    await pipeline.tick(); // not stalled long yet: stays in memory
    clock.ms += 2_000;
    await pipeline.tick(); // stalled: records 2-6 fill the outbox share
    expect(store.records).toBe(5);
    topic.down = true;
    release();
    await first; // the send fails: 0 and 1 go to the outbox too, under their older ids
    expect(store.records).toBe(7);
    topic.down = false;
    topic.stall = undefined;
    await tick();
    await tick();
    expect(topic.of('a')).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('a graceful stop puts memory in the outbox while the topic is away', async () => {
    const { pipeline, topic, store, record, clock } = setup();
    topic.down = true;
    record('a', 7);
    expect(await pipeline.close(clock.ms + 60_000)).toBe(0);
    expect(store.records).toBe(7);
  });

  it('a graceful stop puts memory in the outbox when the topic does not answer in time (and may deliver it twice)', async () => {
    const { pipeline, topic, store, record, clock, tick } = setup();
    await tick(); // the start-up sweep of the outbox
    topic.stall = new Promise(() => undefined);
    record('a', 4);
    void pipeline.tick(); // a send under way when the stop begins
    record('a', 3);
    expect(await pipeline.close(clock.ms + 100)).toBe(0);
    expect(store.records).toBe(7);
    expect([...store.batches.values()].flatMap((b) => b.records.map((r) => r.n))).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('a sweep reads the outbox once for many batches other instances left, then drains them by id, in order', async () => {
    const { topic, store, tick } = setup({ drainBatches: 2 });
    const left = ['i0:0000000004', 'i0:0000000001', 'i0:0000000003', 'i0:0000000000', 'i0:0000000002'];
    await store.insert(left.map((_id) => ({ _id, tenantId: 'z', records: [{ tenantId: 'z', n: Number(_id.slice(-1)) }], at: new Date() })));
    await tick();
    expect(store.reads).toBe(1);
    expect(topic.of('z')).toEqual([0, 1, 2, 3, 4]);
    expect(store.batches.size).toBe(0);
  });

  it('after an outage at start, sweeps again before memory goes to the topic: batches a stopped instance left come first', async () => {
    const { pipeline, topic, store, record, tick } = setup();
    await store.insert([{ _id: 'i0:0000000000', tenantId: 'z', records: [{ tenantId: 'z', n: 99 }], at: new Date() }]);
    topic.down = true;
    await tick(); // the start-up sweep finds i0's batch; sending it fails
    topic.down = false;
    await tick(); // back (nothing in memory)
    record('z', 1);
    await tick();
    await tick();
    expect(topic.of('z')).toEqual([99, 0]);
    expect(store.batches.size).toBe(0);
    expect(pipeline.outboxRecords).toBe(0);
  });

  it('drains batches other instances left in the outbox (found by a sweep)', async () => {
    const { topic, store, tick } = setup();
    await store.insert([{ _id: 'i0:0000000000', tenantId: 'z', records: [{ tenantId: 'z', n: 99 }], at: new Date() }]);
    await tick();
    expect(topic.of('z')).toEqual([99]);
    expect(store.batches.size).toBe(0);
  });
});
