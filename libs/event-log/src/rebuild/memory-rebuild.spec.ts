import type { AnyBulkWriteOperation, Document } from 'mongodb';
import type { KeywardEvent } from '@keyward/domain';
import { GENESIS_HASH, sealCommit, type Commit } from '../commit/commit';
import { tenantIndexOf } from '../projection/tenant-index';
import { TenantProjection } from '../projection/tenant-projection';
import { MemoryRebuild, type RebuildTarget, type WritableCollection } from './memory-rebuild';

const actor = { principalId: 'prn_abcdefgh', role: 'tenant-admin' } as const;
const at = '2026-01-01T00:00:00.000Z';
const ev = (type: string, data: object): KeywardEvent => ({ type, data, actor, correlationId: 'r', at }) as KeywardEvent;

/** An AES key's creation (version 1), with `extra` data (dates) when given. */
const created = (keyId: string, extra: object = {}): KeywardEvent =>
  ev('key.created.v1', {
    keyId,
    keyType: 'AES-256-GCM',
    description: '',
    labels: {},
    exportable: false,
    version: { version: 1, kcv: 'k1' },
    ...extra,
  });

/** A tenant's log: onboarding, then `keys` keys created and rotated. */
function log(tenantId: string, keys: number): Commit[] {
  const bodies: KeywardEvent[][] = [
    [
      ev('tenant.onboarded.v1', { tenantId, name: tenantId }),
      ev('principal.created.v1', { principalId: 'prn_admin0001', name: 'admin', role: 'tenant-admin' }),
    ],
  ];
  for (let i = 0; i < keys; i++) {
    const keyId = `key_${String(i).padStart(9, '0')}`;
    bodies.push([created(keyId), ev('key.activated.v1', { keyId, reason: 'requested' })]);
    bodies.push([ev('key.rotated.v1', { keyId, version: { version: 2, kcv: 'k2' } })]);
  }
  let prev = GENESIS_HASH;
  return bodies.map((events, i) => {
    const c = sealCommit({ tenantId, seq: i + 1, commandId: `c${i}`, events, committedAt: at, prevHash: prev });
    prev = c.hash;
    return c;
  });
}

/** A collection in memory that refuses duplicate inserts, like the real one. */
class FakeCollection<T extends Document & { _id: string }> implements WritableCollection<T> {
  readonly docs = new Map<string, T>();
  requests = 0;
  replaced = 0;

  insertMany(docs: T[]): Promise<{ insertedCount: number }> {
    this.requests += 1;
    for (const d of docs) {
      if (this.docs.has(d._id)) return Promise.reject(Object.assign(new Error('duplicate key'), { code: 11000 }));
      this.docs.set(d._id, JSON.parse(JSON.stringify(d)) as T);
    }
    return new Promise((resolve) => setTimeout(() => resolve({ insertedCount: docs.length }), 1));
  }

  bulkWrite(ops: AnyBulkWriteOperation<T>[]): Promise<{ matchedCount: number; upsertedCount: number }> {
    this.requests += 1;
    let matchedCount = 0;
    let upsertedCount = 0;
    for (const op of ops) {
      const { replacement } = (op as unknown as { replaceOne: { replacement: T } }).replaceOne;
      if (this.docs.has(replacement._id)) matchedCount += 1;
      else upsertedCount += 1;
      this.docs.set(replacement._id, JSON.parse(JSON.stringify(replacement)) as T);
      this.replaced += 1;
    }
    return Promise.resolve({ matchedCount, upsertedCount });
  }
}

function target() {
  const views = {
    keys: new FakeCollection(),
    principals: new FakeCollection(),
    tenants: new FakeCollection(),
    checkpoints: new FakeCollection(),
    indexes: new FakeCollection(),
    due: new FakeCollection(),
  };
  return { views, asTarget: views as unknown as RebuildTarget };
}

/** What the live projector's fold gives for these logs, as documents by id. */
function expected(logs: Commit[][]) {
  const out = {
    keys: new Map<string, unknown>(),
    principals: new Map<string, unknown>(),
    tenants: new Map<string, unknown>(),
    checkpoints: new Map<string, unknown>(),
    indexes: new Map<string, unknown>(),
  };
  for (const commits of logs) {
    const p = new TenantProjection(commits[0]!.tenantId);
    for (const c of commits) p.apply(c);
    for (const [id, k] of p.keys) out.keys.set(id, JSON.parse(JSON.stringify(k)));
    for (const [id, k] of p.principals) out.principals.set(id, JSON.parse(JSON.stringify(k)));
    out.tenants.set(p.tenantId, JSON.parse(JSON.stringify(p.tenant)));
    out.checkpoints.set(p.tenantId, { _id: p.tenantId, lastSeq: p.lastSeq, lastHash: p.lastHash });
    out.indexes.set(
      p.tenantId,
      JSON.parse(JSON.stringify(tenantIndexOf(p.tenantId, p.lastSeq, p.tenant, p.keys.values(), p.principals.values()))),
    );
  }
  return out;
}

const noGaps = { load: () => Promise.reject(new Error('no gap expected')) };

describe('MemoryRebuild', () => {
  it('writes view_due for the keys with a pending date, before their key views', async () => {
    const tenantId = 'tnt_due';
    const keyId = 'key_000000dated';
    const base = log(tenantId, 1);
    const last = base.at(-1)!;
    const dated = sealCommit({
      tenantId,
      seq: last.seq + 1,
      commandId: 'dated',
      events: [created(keyId, { deactivationDate: '2031-01-01T00:00:00.000Z' })],
      committedAt: at,
      prevHash: last.hash,
    });
    const { views, asTarget } = target();
    const rebuild = new MemoryRebuild(asTarget, noGaps);
    await rebuild.apply([...base, dated], 0);
    await rebuild.finish();
    expect([...views.due.docs.values()]).toEqual([
      expect.objectContaining({ _id: `${tenantId}:${keyId}`, keyId, state: 'PreActive', deactivationDate: '2031-01-01T00:00:00.000Z' }),
    ]);
  });

  it('writes each document once, the same as the fold, a partition as soon as it ends', async () => {
    const a = log('tnt_a', 30);
    const b = log('tnt_b', 5);
    const { views, asTarget } = target();
    const rebuild = new MemoryRebuild(asTarget, noGaps, { chunk: 7, writeConcurrency: 2 });
    await rebuild.apply(a.slice(0, 20), 0);
    await rebuild.apply(b, 1);
    rebuild.partitionDone(1);
    await rebuild.apply(a.slice(20), 0);
    // Partition 1 is written while partition 0 is still being read.
    for (let i = 0; i < 500 && !views.checkpoints.docs.has('tnt_b'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(views.checkpoints.docs.get('tnt_b')).toMatchObject({ lastSeq: b.length });
    expect(views.keys.docs.size).toBe(5);
    rebuild.partitionDone(0);
    const result = await rebuild.finish();

    const want = expected([a, b]);
    expect(Object.fromEntries(views.keys.docs)).toEqual(Object.fromEntries(want.keys));
    expect(Object.fromEntries(views.principals.docs)).toEqual(Object.fromEntries(want.principals));
    expect(Object.fromEntries(views.tenants.docs)).toEqual(Object.fromEntries(want.tenants));
    expect(Object.fromEntries(views.checkpoints.docs)).toEqual(Object.fromEntries(want.checkpoints));
    expect(Object.fromEntries(views.indexes.docs)).toEqual(Object.fromEntries(want.indexes));
    expect(views.keys.replaced + views.tenants.replaced + views.checkpoints.replaced + views.indexes.replaced).toBe(0);
    expect(result).toMatchObject({ commits: a.length + b.length, tenants: 2, chainProblems: [], documentsWritten: 35 + 2 + 2 + 2 + 2 });
    expect(result.events).toBe([...a, ...b].reduce((n, c) => n + c.events.length, 0));
  });

  it('skips duplicates, fills gaps from the store, and rewrites a tenant that comes back after it was written', async () => {
    const a = log('tnt_a', 6);
    const { views, asTarget } = target();
    const store = { load: (_t: string, after: number, to: number) => Promise.resolve(a.filter((c) => c.seq > after && c.seq <= to)) };
    const rebuild = new MemoryRebuild(asTarget, store, { chunk: 2 });
    await rebuild.apply([a[0]!, a[1]!, a[1]!, a[4]!], 0); // a duplicate, then a gap (3 and 4 come from the store)
    rebuild.partitionDone(0);
    await rebuild.apply(a.slice(5), 1); // the tenant shows up in another partition afterwards
    rebuild.partitionDone(1);
    const result = await rebuild.finish();
    const want = expected([a]);
    expect(Object.fromEntries(views.keys.docs)).toEqual(Object.fromEntries(want.keys));
    expect(Object.fromEntries(views.tenants.docs)).toEqual(Object.fromEntries(want.tenants));
    expect(Object.fromEntries(views.checkpoints.docs)).toEqual(Object.fromEntries(want.checkpoints));
    expect(Object.fromEntries(views.indexes.docs)).toEqual(Object.fromEntries(want.indexes));
    expect(views.tenants.replaced).toBe(1);
    expect(views.checkpoints.replaced).toBe(1);
    expect(views.indexes.replaced).toBe(1);
    expect(result).toMatchObject({ commits: a.length, duplicates: 1, gapFilled: 2, chainProblems: [] });
  });

  it('reports an altered commit and a broken link, and still builds the views', async () => {
    const a = log('tnt_a', 4);
    const altered = { ...a[2]!, committedAt: '2001-01-01T00:00:00.000Z' };
    const resealed = sealCommit({ ...a[4]!, prevHash: GENESIS_HASH });
    const commits = [a[0]!, a[1]!, altered, a[3]!, resealed, ...a.slice(5)];
    const { views, asTarget } = target();
    const rebuild = new MemoryRebuild(asTarget, noGaps);
    await rebuild.apply(commits, 0);
    const result = await rebuild.finish();
    expect(result.chainProblems).toEqual([
      { tenantId: 'tnt_a', seq: 3, problem: 'hash-mismatch' },
      { tenantId: 'tnt_a', seq: 5, problem: 'broken-link' },
      // Re-sealed: commit 6 still points at the hash commit 5 had.
      { tenantId: 'tnt_a', seq: 6, problem: 'broken-link' },
    ]);
    expect(views.keys.docs.size).toBe(4);
  });

  it('fails when the store cannot fill a gap, and when a write fails', async () => {
    const a = log('tnt_a', 3);
    const rebuild = new MemoryRebuild(target().asTarget, { load: () => Promise.resolve([]) });
    await expect(rebuild.apply([a[0]!, a[2]!], 0)).rejects.toThrow('commit tnt_a:2 is missing from the store');

    const { views, asTarget } = target();
    views.keys.docs.set('tnt_a:key_000000000', { _id: 'tnt_a:key_000000000' });
    const failing = new MemoryRebuild(asTarget, noGaps);
    await failing.apply(a, 0);
    await expect(failing.finish()).rejects.toThrow('duplicate key');
  });
});
