import type { AnyBulkWriteOperation, Collection, Document, Filter } from 'mongodb';
import type { Commit } from '../commit/commit';
import type { CommitStore } from '../commit/commit-store';
import { inBatches } from '../commit/update-batches';
import type { GuardedWrites } from './guarded-writes';
import { TenantProjection } from './tenant-projection';
import type { KeyView, PrincipalView, TenantView, ViewCollections } from './views';

export interface ApplyResult {
  readonly applied: number;
  readonly duplicates: number;
  readonly gapFilled: number;
}

/** A guarded write found a document newer than we knew: someone else projected this tenant. */
class StaleProjection extends Error {}

/**
 * Applies commits to the views. Idempotent and gap-aware: a commit at or below the tenant's
 * checkpoint is a duplicate and skipped; one beyond it first pulls the missing commits from the
 * store. Documents are written before the checkpoint, each guarded by the appliedSeq it had,
 * so a crash anywhere converges on replay to the same documents.
 */
/** Tenants projected at once within one batch. */
const TENANT_CONCURRENCY = 8;

export class Projector {
  private readonly tenants = new Map<string, TenantProjection>();
  /** How guarded writes reach the store: see guarded-writes.ts (`filter` until told otherwise). */
  private guardedWrites: GuardedWrites = 'filter';

  constructor(
    private readonly views: ViewCollections,
    private readonly store: CommitStore,
    private readonly maxCachedTenants = 2_000,
  ) {}

  /** Chooses how guarded writes reach the store (guardedWritesFor tells which suits it). */
  useGuardedWrites(mode: GuardedWrites): void {
    this.guardedWrites = mode;
  }

  /** Forget cached state (after a rebalance: another instance may have moved on). */
  reset(): void {
    this.tenants.clear();
  }

  async apply(commits: readonly Commit[]): Promise<ApplyResult> {
    const byTenant = new Map<string, Commit[]>();
    for (const commit of commits) {
      const list = byTenant.get(commit.tenantId) ?? [];
      list.push(commit);
      byTenant.set(commit.tenantId, list);
    }
    const total = { applied: 0, duplicates: 0, gapFilled: 0 };
    // Tenants are independent: project several at once (each tenant's commits stay in order),
    // so that a batch spanning many tenants costs a few round trips, not a few per tenant.
    const queue = [...byTenant];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const result = await this.applyTenantWithRetry(next[0], next[1]);
        total.applied += result.applied;
        total.duplicates += result.duplicates;
        total.gapFilled += result.gapFilled;
      }
    };
    await Promise.all(Array.from({ length: Math.min(TENANT_CONCURRENCY, queue.length) }, worker));
    return total;
  }

  private async applyTenantWithRetry(tenantId: string, list: readonly Commit[]): Promise<ApplyResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.applyTenant(tenantId, list);
      } catch (err: unknown) {
        this.tenants.delete(tenantId);
        if (!(err instanceof StaleProjection) || attempt >= 5) throw err;
      }
    }
  }

  private async applyTenant(tenantId: string, commits: readonly Commit[]): Promise<ApplyResult> {
    const projection = await this.projection(tenantId);
    const startSeq = projection.lastSeq;
    let applied = 0;
    let duplicates = 0;
    let gapFilled = 0;
    for (const commit of [...commits].sort((a, b) => a.seq - b.seq)) {
      if (commit.seq <= projection.lastSeq) {
        duplicates += 1;
        continue;
      }
      if (commit.seq > projection.lastSeq + 1) {
        const missing = await this.store.load(tenantId, projection.lastSeq, commit.seq - 1);
        for (const m of missing) {
          if (m.seq !== projection.lastSeq + 1) throw new Error(`commit ${tenantId}:${projection.lastSeq + 1} is missing from the store`);
          projection.apply(m);
          gapFilled += 1;
        }
      }
      projection.apply(commit);
      applied += 1;
    }
    if (applied + gapFilled > 0) await this.flush(projection, startSeq);
    return { applied, duplicates, gapFilled };
  }

  private async flush(projection: TenantProjection, fromSeq: number): Promise<void> {
    const { views } = this;
    const keys: Guarded<KeyView>[] = [];
    const principals: Guarded<PrincipalView>[] = [];
    const tenants: Guarded<TenantView>[] = [];
    for (const id of projection.dirty) {
      const stored = projection.storedSeq.get(id);
      const key = projection.keys.get(id);
      const principal = projection.principals.get(id);
      if (key) keys.push({ doc: key, stored });
      else if (principal) principals.push({ doc: principal, stored });
      else if (id === projection.tenantId && projection.tenant) tenants.push({ doc: projection.tenant, stored });
    }
    // Independent collections: written side by side. The checkpoint comes after, last.
    await Promise.all([
      this.writeViews(views.keys, keys),
      this.writeViews(views.principals, principals),
      this.writeViews(views.tenants, tenants),
    ]);
    for (const id of projection.dirty) {
      const doc = projection.keys.get(id) ?? projection.principals.get(id) ?? (id === projection.tenantId ? projection.tenant : undefined);
      if (doc) projection.storedSeq.set(id, doc.appliedSeq);
    }
    projection.dirty.clear();
    const checkpoint = { _id: projection.tenantId, lastSeq: projection.lastSeq, lastHash: projection.lastHash };
    if (fromSeq === 0) {
      await views.checkpoints.replaceOne({ _id: projection.tenantId }, checkpoint, { upsert: true });
      return;
    }
    if (this.guardedWrites === 'check-by-id') {
      const current = await views.checkpoints.findOne({ _id: projection.tenantId }, { projection: { lastSeq: 1 } });
      if (current?.lastSeq !== fromSeq) throw new StaleProjection(`checkpoint of ${projection.tenantId} moved`);
    }
    const filter = this.guardedWrites === 'filter' ? { _id: projection.tenantId, lastSeq: fromSeq } : { _id: projection.tenantId };
    const result = await views.checkpoints.replaceOne(filter, checkpoint);
    if (result.matchedCount !== 1) throw new StaleProjection(`checkpoint of ${projection.tenantId} moved`);
  }

  /** New documents are inserted; the others replaced only if they still have the appliedSeq last seen. */
  private async writeViews<T extends Document & { _id: string; appliedSeq: number }>(
    collection: ViewCollection<T>,
    entries: readonly Guarded<T>[],
  ): Promise<void> {
    if (entries.length === 0) return;
    if (this.guardedWrites === 'check-by-id') {
      for (const batch of inBatches(
        entries.filter((e) => e.stored !== undefined),
        CHECKS_AT_ONCE,
      )) {
        await Promise.all(
          batch.map(async ({ doc, stored }) => {
            const current = await collection.findOne({ _id: doc._id } as Filter<T>, { projection: { appliedSeq: 1 } });
            if (current?.appliedSeq !== stored) throw new StaleProjection('a view document changed under the projector');
          }),
        );
      }
    }
    await write(
      collection,
      entries.map(({ doc, stored }) => guarded(doc, stored, this.guardedWrites)),
    );
  }

  private async projection(tenantId: string): Promise<TenantProjection> {
    const cached = this.tenants.get(tenantId);
    if (cached) {
      // Least recently used order: a busy tenant is never the one dropped for a new one.
      this.tenants.delete(tenantId);
      this.tenants.set(tenantId, cached);
      return cached;
    }
    const { views } = this;
    const projection = new TenantProjection(tenantId);
    const [checkpoint, tenant, keys, principals] = await Promise.all([
      views.checkpoints.findOne({ _id: tenantId }),
      views.tenants.findOne({ _id: tenantId }),
      views.keys.find({ tenantId }).toArray(),
      views.principals.find({ tenantId }).toArray(),
    ]);
    projection.load(checkpoint, tenant, keys, principals);
    if (this.tenants.size >= this.maxCachedTenants) {
      const oldest = this.tenants.keys().next().value;
      if (oldest !== undefined) this.tenants.delete(oldest);
    }
    this.tenants.set(tenantId, projection);
    return projection;
  }
}

/** A view document to write, and the appliedSeq it had when last read or written (none: new). */
interface Guarded<T> {
  readonly doc: T;
  readonly stored: number | undefined;
}

/** The collection methods the projector writes views with. */
type ViewCollection<T extends Document> = Pick<Collection<T>, 'bulkWrite' | 'findOne'>;

/** Point reads in flight at once when guards are checked by `_id`. */
const CHECKS_AT_ONCE = 8;

/**
 * Insert a new document, or replace the one whose appliedSeq we last saw: with the guard in the
 * filter, or (`check-by-id`, checked just before) by `_id` alone.
 */
function guarded<T extends Document & { _id: string }>(
  doc: T,
  storedSeq: number | undefined,
  mode: GuardedWrites,
): AnyBulkWriteOperation<T> {
  if (storedSeq === undefined) return { insertOne: { document: doc } } as AnyBulkWriteOperation<T>;
  const filter = mode === 'filter' ? { _id: doc._id, appliedSeq: storedSeq } : { _id: doc._id };
  return { replaceOne: { filter, replacement: doc } } as unknown as AnyBulkWriteOperation<T>;
}

async function write<T extends Document>(
  collection: {
    bulkWrite(ops: AnyBulkWriteOperation<T>[], o: { ordered: boolean }): Promise<{ matchedCount: number; insertedCount: number }>;
  },
  ops: AnyBulkWriteOperation<T>[],
): Promise<void> {
  for (const batch of inBatches(ops)) {
    let result: { matchedCount: number; insertedCount: number };
    try {
      result = await collection.bulkWrite(batch, { ordered: false });
    } catch (err: unknown) {
      if ((err as { code?: number }).code === 11000) throw new StaleProjection('a view document already exists');
      throw err;
    }
    const inserts = batch.filter((op) => 'insertOne' in op).length;
    if (result.insertedCount !== inserts || result.matchedCount !== batch.length - inserts) {
      throw new StaleProjection('a view document changed under the projector');
    }
  }
}
