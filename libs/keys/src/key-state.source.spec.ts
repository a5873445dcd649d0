import type { KeywardConfig } from '@keyward/config';
import { CommandExecutor, GENESIS_HASH, sealCommit, type Commit, type CommitStore } from '@keyward/event-log';
import { KeyStateSource } from './key-state.source';

const executor = { peek: () => undefined, current: () => Promise.reject(new Error('not in this spec')) } as unknown as CommandExecutor;
const config = { crypto: { stateTtlMs: 60_000 }, limits: { tenantLogCacheMax: 1_000 } } as unknown as KeywardConfig;

describe('KeyStateSource: waiting for the stream', () => {
  it('answers at once for a commit the stream already carried', async () => {
    const states = new KeyStateSource(executor, config);
    states.noteCommit('t1', 7);
    await expect(states.whenStreamed('t1', 5, 1_000)).resolves.toBe(true);
    expect(states.streamedSeq('t1')).toBe(7);
  });

  it('wakes the readers of a tenant when its commit (or a later one) arrives, and only those', async () => {
    const states = new KeyStateSource(executor, config);
    const early = states.whenStreamed('t1', 3, 5_000);
    const later = states.whenStreamed('t1', 9, 50);
    const other = states.whenStreamed('t2', 1, 50);
    states.noteCommit('t1', 4);
    await expect(early).resolves.toBe(true);
    await expect(later).resolves.toBe(false);
    await expect(other).resolves.toBe(false);
  });

  it('gives up after the timeout, and a later commit finds no reader left behind', async () => {
    const states = new KeyStateSource(executor, config);
    await expect(states.whenStreamed('t1', 2, 10)).resolves.toBe(false);
    states.noteCommit('t1', 2);
    expect(states.streamedSeq('t1')).toBe(2);
    expect((states as unknown as { waiters: Map<string, unknown> }).waiters.size).toBe(0);
  });
});

describe('KeyStateSource: checking what the stream carried against the store', () => {
  const at = '2026-01-01T00:00:00.000Z';
  const commit = (seq: number, prevHash = GENESIS_HASH): Commit =>
    sealCommit({ tenantId: 't1', seq, commandId: `c${seq}`, events: [], committedAt: at, prevHash });
  /** An executor whose store has `stored` (its head), caught up on `current`. */
  const storeWith = (stored: Commit | undefined) => {
    // This process holds the tenant's log (at seq 0 until it reads the store).
    let head: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH };
    let reads = 0;
    const fake = {
      peekHead: () => head,
      current: () => {
        reads += 1;
        head = stored ? { seq: stored.seq, hash: stored.hash } : { seq: 0, hash: GENESIS_HASH };
        return Promise.resolve(undefined);
      },
    };
    return { executor: fake as unknown as CommandExecutor, reads: () => reads };
  };

  it('accepts the store head itself, reading the store once, and not again for a commit it has folded', async () => {
    const real = commit(1);
    const store = storeWith(real);
    const states = new KeyStateSource(store.executor, config);
    states.noteCommit('t1', 1);
    await expect(states.confirmStreamed(real)).resolves.toBeUndefined();
    await expect(states.confirmStreamed(real)).resolves.toBeUndefined();
    expect(store.reads()).toBe(1);
    expect(states.streamedSeq('t1')).toBe(1);
  });

  it('forgets a seq beyond the store head, so it neither sends every request to the store nor releases waiters', async () => {
    const real = commit(1);
    const states = new KeyStateSource(storeWith(real).executor, config);
    const forged = commit(99, real.hash);
    states.noteCommit('t1', 99);
    await expect(states.confirmStreamed(forged)).resolves.toBe('not-in-store');
    expect(states.streamedSeq('t1')).toBe(1);
    await expect(states.whenStreamed('t1', 2, 10)).resolves.toBe(false);
  });

  it('reads nothing for a tenant it holds no log of (log() forgets a false seq at its first read)', async () => {
    const states = new KeyStateSource({ peekHead: () => undefined } as unknown as CommandExecutor, config);
    states.noteCommit('t1', 99);
    await expect(states.confirmStreamed(commit(99))).resolves.toBeUndefined();
  });

  it('refuses a message at the head seq whose hash is not the store head', async () => {
    const real = commit(1);
    const states = new KeyStateSource(storeWith(real).executor, config);
    await expect(states.confirmStreamed({ ...real, hash: 'f'.repeat(64) })).resolves.toBe('hash-differs');
    await expect(states.confirmStreamed({ ...real, commandId: 'altered' })).resolves.toBe('hash-does-not-recompute');
  });
});

describe('KeyStateSource: bounded state', () => {
  /** The commit store's contract in memory, shared by two executors (two instances). */
  const memoryStore = () => {
    const docs = new Map<string, Commit>();
    return {
      append: (c: Commit) => {
        if (docs.has(`${c.tenantId}:${c.seq}`)) return Promise.reject(new Error('duplicate'));
        docs.set(`${c.tenantId}:${c.seq}`, c);
        return Promise.resolve();
      },
      load: (tenantId: string, afterSeq = 0) =>
        Promise.resolve([...docs.values()].filter((c) => c.tenantId === tenantId && c.seq > afterSeq).sort((a, b) => a.seq - b.seq)),
      get: (tenantId: string, seq: number) => Promise.resolve(docs.get(`${tenantId}:${seq}`) ?? null),
    } as unknown as CommitStore;
  };
  const ctx = {
    now: new Date('2030-01-01T00:00:00Z'),
    actor: { principalId: 'prn_provider01', role: 'provider-admin' as const },
    correlationId: 'c',
  };

  it('reads an evicted tenant again from the store: a commit made elsewhere meanwhile is seen even without the stream', async () => {
    const store = memoryStore();
    const elsewhere = new CommandExecutor(store);
    const here = new CommandExecutor(store, undefined, undefined, { maxCachedTenants: 1 });
    const states = new KeyStateSource(here, config);
    const [a, b] = ['tnt_evicted001', 'tnt_evicted002'];
    for (const tenantId of [a, b]) await elsewhere.execute(tenantId, { kind: 'tenant.onboard', tenantId, name: tenantId }, ctx);
    expect((await states.log(a)).tenant?.status).toBe('Active');
    await states.log(b); // room for one: a is evicted
    expect(here.peek(a)).toBeUndefined();
    await elsewhere.execute(a, { kind: 'tenant.suspend', tenantId: a }, ctx); // the stream never says so here
    const reloaded = await states.log(a);
    expect([reloaded.seq, reloaded.tenant?.status]).toEqual([2, 'Suspended']);
    expect(here.cacheStats()).toMatchObject({ entries: 1, reloads: 1 });
  });

  it('keeps stream marks for a bounded number of tenants (the oldest go; a forgotten one reads 0)', () => {
    const states = new KeyStateSource(executor, config);
    for (let i = 0; i <= 10_000; i++) states.noteCommit(`t${i}`, 1);
    expect(states.streamedSeq('t0')).toBe(0);
    expect(states.streamedSeq('t10000')).toBe(1);
  });
});
