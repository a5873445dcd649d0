import type { DecisionContext } from '@keyward/domain';
import type { CommitDocument } from './commit';
import { commitId } from './commit';
import { CommandExecutor } from './command-executor';
import { ConcurrencyConflict, type CommitStore } from './commit-store';
import { TenantQuotas } from './tenant-quotas';
import { LOG_BYTES } from './tenant-log-bytes';

/** The commit store's contract in memory (unit tier: the real one is exercised end to end). */
class MemoryStore {
  readonly docs = new Map<string, CommitDocument>();
  readonly reads = { get: 0, load: 0 };

  append(commit: Omit<CommitDocument, '_id' | 'published'>): Promise<void> {
    const id = commitId(commit.tenantId, commit.seq);
    if (this.docs.has(id)) return Promise.reject(new ConcurrencyConflict(commit.tenantId, commit.seq));
    this.docs.set(id, { ...commit, _id: id, published: false });
    return Promise.resolve();
  }

  async load(tenantId: string, afterSeq = 0): Promise<CommitDocument[]> {
    this.reads.load += 1;
    await new Promise((r) => setTimeout(r, 1)); // a real round trip: lets concurrent callers interleave
    return [...this.docs.values()].filter((c) => c.tenantId === tenantId && c.seq > afterSeq).sort((a, b) => a.seq - b.seq);
  }

  async get(tenantId: string, seq: number): Promise<CommitDocument | null> {
    this.reads.get += 1;
    await new Promise((r) => setTimeout(r, 1));
    return this.docs.get(commitId(tenantId, seq)) ?? null;
  }
}

const ctx: DecisionContext = {
  now: new Date('2030-01-01T00:00:00Z'),
  actor: { principalId: 'prn_provider01', role: 'provider-admin' },
  correlationId: 'c',
};
const TENANT = 'tnt_race00001';

describe('CommandExecutor', () => {
  it('concurrent catch-ups of one tenant fold each commit once (no false "inconsistent log")', async () => {
    const store = new MemoryStore() as unknown as CommitStore;
    const writer = new CommandExecutor(store);
    const reader = new CommandExecutor(store);
    await writer.execute(TENANT, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Race' }, ctx);
    await reader.current(TENANT);
    await writer.execute(TENANT, { kind: 'tenant.suspend', tenantId: TENANT }, ctx);
    await writer.execute(TENANT, { kind: 'tenant.resume', tenantId: TENANT }, ctx);
    const logs = await Promise.all([reader.current(TENANT), reader.current(TENANT), reader.current(TENANT)]);
    expect(logs.map((l) => l.seq)).toEqual([3, 3, 3]);
    expect(reader.peek(TENANT)?.tenant?.status).toBe('Active');
  });

  it('a writer that lost a race reloads and decides again on the newer state', async () => {
    const store = new MemoryStore() as unknown as CommitStore;
    const a = new CommandExecutor(store);
    const b = new CommandExecutor(store);
    await a.execute(TENANT, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Race' }, ctx);
    await b.current(TENANT);
    await a.execute(TENANT, { kind: 'tenant.suspend', tenantId: TENANT }, ctx);
    // b still believes the tenant is Active: its suspend conflicts, reloads, and is refused on the fresh state.
    await expect(b.execute(TENANT, { kind: 'tenant.suspend', tenantId: TENANT }, ctx)).rejects.toMatchObject({
      code: 'illegal-transition',
    });
    expect(b.peek(TENANT)?.seq).toBe(2);
  });

  it('a caught-up tenant costs one catch-up per command (CommitStore.load: one read by _id when nothing is new)', async () => {
    const memory = new MemoryStore();
    const executor = new CommandExecutor(memory as unknown as CommitStore);
    await executor.execute(TENANT, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Probe' }, ctx);
    memory.reads.get = 0;
    memory.reads.load = 0;
    await executor.execute(TENANT, { kind: 'tenant.suspend', tenantId: TENANT }, ctx);
    await executor.current(TENANT);
    expect(memory.reads).toEqual({ get: 0, load: 2 });
  });

  it("follows another writer's commits with one catch-up however many there are", async () => {
    const memory = new MemoryStore();
    const store = memory as unknown as CommitStore;
    const writer = new CommandExecutor(store);
    const reader = new CommandExecutor(store);
    await writer.execute(TENANT, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Probe' }, ctx);
    expect((await reader.current(TENANT)).seq).toBe(1);
    await writer.execute(TENANT, { kind: 'tenant.suspend', tenantId: TENANT }, ctx);
    memory.reads.load = 0;
    expect((await reader.current(TENANT)).seq).toBe(2);
    expect(memory.reads.load).toBe(1);
    for (let i = 0; i < 5; i++) {
      await writer.execute(TENANT, { kind: 'tenant.resume', tenantId: TENANT }, ctx);
      await writer.execute(TENANT, { kind: 'tenant.suspend', tenantId: TENANT }, ctx);
    }
    memory.reads.load = 0;
    const log = await reader.current(TENANT);
    expect([log.seq, log.tenant?.status, memory.reads.load]).toEqual([12, 'Suspended', 1]);
  });

  it('keeps at most maxCachedTenants logs in memory: the least recently used go, and come back from the store on demand', async () => {
    const memory = new MemoryStore();
    const executor = new CommandExecutor(memory as unknown as CommitStore, undefined, undefined, { maxCachedTenants: 2 });
    const tenants = ['tnt_lru0000001', 'tnt_lru0000002', 'tnt_lru0000003'];
    for (const tenantId of tenants) await executor.execute(tenantId, { kind: 'tenant.onboard', tenantId, name: tenantId }, ctx);
    expect(executor.cachedTenants).toBe(2);
    expect(executor.peek(tenants[0]!)).toBeUndefined(); // least recently used: dropped
    expect(executor.peek(tenants[2]!)?.seq).toBe(1);
    // Using the second (held: a request's use without a store read) makes the third the least recently used.
    expect(executor.held(tenants[1]!)?.seq).toBe(1);
    const reloaded = await executor.current(tenants[0]!);
    expect([reloaded.seq, reloaded.tenant?.status]).toEqual([1, 'Active']);
    expect(executor.peek(tenants[2]!)).toBeUndefined();
    expect(executor.cachedTenants).toBe(2);
    // A reloaded log goes on from the store's head: no lost or repeated commit.
    await executor.execute(tenants[0]!, { kind: 'tenant.suspend', tenantId: tenants[0]! }, ctx);
    expect(executor.peek(tenants[0]!)?.seq).toBe(2);
  });

  it('never drops a log that has a command in flight (the bound may be exceeded meanwhile)', async () => {
    const memory = new MemoryStore();
    const executor = new CommandExecutor(memory as unknown as CommitStore, undefined, undefined, { maxCachedTenants: 1 });
    const [a, b] = ['tnt_busy000001', 'tnt_busy000002'];
    const first = executor.execute(a, { kind: 'tenant.onboard', tenantId: a, name: 'A' }, ctx);
    const second = executor.execute(b, { kind: 'tenant.onboard', tenantId: b, name: 'B' }, ctx);
    expect(executor.cachedTenants).toBe(2); // a is busy: kept
    await Promise.all([first, second]);
    expect((await executor.current(a)).seq).toBe(1);
    // Idle again: the next tenant brings the cache back within its bound.
    await executor.current('tnt_busy000003');
    expect(executor.cachedTenants).toBe(1);
  });

  it('keeps the logs within maxCachedBytes (estimated): a big idle log goes for a new tenant and comes back whole, with a reload counted', async () => {
    const memory = new MemoryStore();
    const bytes = LOG_BYTES.base + LOG_BYTES.principal + 3 * LOG_BYTES.key; // tenant a with its admin and 3 keys
    const executor = new CommandExecutor(memory as unknown as CommitStore, undefined, undefined, {
      maxCachedBytes: bytes + LOG_BYTES.base / 2,
    });
    const [a, b] = ['tnt_bytes00001', 'tnt_bytes00002'];
    const admin = { ...ctx, actor: { principalId: 'prn_bytesadm01', role: 'tenant-admin' as const } };
    await executor.execute(
      a,
      { kind: 'tenant.onboard', tenantId: a, name: 'A', firstAdmin: { principalId: 'prn_bytesadm01', name: 'admin' } },
      ctx,
    );
    for (const keyId of ['key_bytes0001', 'key_bytes0002', 'key_bytes0003']) {
      await executor.execute(a, { kind: 'key.create', keyId, keyType: 'AES-256-GCM', kcv: 'kcv', activate: true }, admin);
    }
    expect(executor.cacheStats()).toMatchObject({ entries: 1, bytes });
    await executor.execute(b, { kind: 'tenant.onboard', tenantId: b, name: 'B' }, ctx);
    expect(executor.peek(a)).toBeUndefined(); // a and b together are beyond the bound: a, the least recently used, went
    const reloaded = await executor.current(a);
    expect([reloaded.seq, reloaded.keys.size]).toEqual([4, 3]);
    expect(executor.peek(b)).toBeUndefined(); // a grew back while busy: b made room
    expect(executor.cacheStats()).toMatchObject({ entries: 1, evictions: 2, reloads: 1 });
  });

  it('refuses a command beyond a tenant quota before deciding it, and appends nothing', async () => {
    const memory = new MemoryStore();
    const quotas = new TenantQuotas({ maxKeys: 100, commitsPerMinute: 2 });
    const executor = new CommandExecutor(memory as unknown as CommitStore, undefined, undefined, { quotas });
    await executor.execute(TENANT, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Quota' }, ctx);
    await executor.execute(TENANT, { kind: 'tenant.suspend', tenantId: TENANT }, ctx);
    await expect(executor.execute(TENANT, { kind: 'tenant.resume', tenantId: TENANT }, ctx)).rejects.toMatchObject({
      code: 'rate-exceeded',
    });
    expect(memory.docs.size).toBe(2);
  });
});
