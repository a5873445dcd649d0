import type { AnyBulkWriteOperation, Collection, Document } from 'mongodb';
import type { Commit } from '../commit/commit';
import type { CommitStore } from '../commit/commit-store';
import { writeInBatches } from '../commit/update-batches';
import { dueViewOf, type DueDocument, type DueView } from './due-dates';
import { readByIds } from './read-by-ids';
import { indexFits, MAX_INDEX_BYTES, tenantIndexOf, viewsAgreeWithIndex } from './tenant-index';
import { TenantProjection } from './tenant-projection';
import { claimId, olderViewSchema, viewId, type KeyView, type PrincipalView, type TenantView, type ViewCollections } from './views';

export interface ApplyResult {
  readonly applied: number;
  readonly duplicates: number;
  readonly gapFilled: number;
}

/** Another projector moved this tenant on (or may have): reload it from the store and go on from there. */
class StaleProjection extends Error {}

/** Tenants projected at once within one batch. */
const TENANT_CONCURRENCY = 8;
/** Attempts at one tenant's commits, each after reloading it. */
const ATTEMPTS = 8;

type CommitSource = Pick<CommitStore, 'load'>;

/**
 * Applies commits to the views. Idempotent and gap-aware: a commit at or below the tenant's
 * checkpoint is a duplicate and skipped; one beyond it first pulls the missing commits from the
 * store.
 *
 * Concurrent projectors of one tenant (a rebalance overlap, a restore beside a live projector):
 * conditional updates are not atomic on FerretDB (issue 3040), so no write here is conditional.
 * What decides is a unique insert, atomic on MongoDB and FerretDB alike: before writing the
 * views of commits f+1..t, a projector inserts the claim `<tenant>@f` (f = the checkpoint it
 * started from). One projector wins each checkpoint's successor, so the checkpoints of a tenant
 * form one chain. Every write is a replace by `_id` of a document whose content is a function of
 * the log up to its seq, so two projectors writing the same step write the same bytes. A step's
 * writes are: its view documents, the tenant index, the checkpoint, in that order; then the
 * projector reads the claim on the checkpoint it wrote: if that step is claimed already, its own
 * writes may have landed after the next step's (an older state over a newer one), so it reloads
 * the tenant and writes the claimed steps again. A projector that loses a claim, or loads a tenant
 * whose checkpoint is claimed (its claimant crashed or is slow), completes that step from the
 * store. A load trusts only the documents the tenant index lists and checks each is at or past the
 * seq the index gives it; one behind (an older write landed late and its writer died before
 * repairing) makes the projector rebuild the tenant from its log. A crash anywhere leaves a state
 * these rules converge from.
 */
export class Projector {
  private readonly tenants = new Map<string, TenantProjection>();

  constructor(
    private readonly views: ViewCollections,
    private readonly store: CommitSource,
    private readonly maxCachedTenants = 2_000,
    /** The largest tenant index written (see indexFits). */
    private readonly maxIndexBytes = MAX_INDEX_BYTES,
  ) {}

  /**
   * Loads these tenants (writing the index of any whose views were projected before there was
   * one, or by an older VIEW_SCHEMA_VERSION: the load rebuilds such a tenant from its log), a few
   * at once; answers how many.
   */
  async index(tenantIds: readonly string[], onIndexed: (tenantId: string) => void = () => undefined): Promise<number> {
    const queue = [...tenantIds];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        await this.projection(next);
        onIndexed(next);
      }
    };
    await Promise.all(Array.from({ length: Math.min(TENANT_CONCURRENCY, queue.length) }, worker));
    return tenantIds.length;
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
        if (!(err instanceof StaleProjection) || attempt >= ATTEMPTS) throw err;
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
      if (commit.seq > projection.lastSeq + 1) gapFilled += await this.fill(projection, commit.seq - 1);
      projection.apply(commit);
      applied += 1;
    }
    if (applied + gapFilled > 0) await this.flush(projection, startSeq);
    return { applied, duplicates, gapFilled };
  }

  /** Folds the store's commits after the projection's seq up to `toSeq`; answers how many. */
  private async fill(projection: TenantProjection, toSeq: number): Promise<number> {
    const missing = await this.store.load(projection.tenantId, projection.lastSeq, toSeq);
    for (const m of missing) {
      if (m.seq !== projection.lastSeq + 1) break;
      projection.apply(m);
    }
    if (projection.lastSeq !== toSeq) throw new Error(`commit ${projection.tenantId}:${projection.lastSeq + 1} is missing from the store`);
    return missing.length;
  }

  /** Claims the step from `fromSeq`, writes it, then checks that no later step was overtaken. */
  private async flush(projection: TenantProjection, fromSeq: number): Promise<void> {
    try {
      await this.views.claims.insertOne({ _id: claimId(projection.tenantId, fromSeq), toSeq: projection.lastSeq });
    } catch (err: unknown) {
      if ((err as { code?: number }).code === 11000) throw new StaleProjection(`${projection.tenantId}@${fromSeq} is claimed`);
      throw err;
    }
    await this.writeStep(projection);
    if (await this.claimed(projection.tenantId, projection.lastSeq)) {
      throw new StaleProjection(`${projection.tenantId} moved on while its step to ${projection.lastSeq} was written`);
    }
  }

  private async claimed(tenantId: string, fromSeq: number): Promise<{ toSeq: number } | null> {
    return this.views.claims.findOne({ _id: claimId(tenantId, fromSeq) });
  }

  /** Writes the changed view documents, then the tenant index, then the checkpoint: replaces by `_id`. */
  private async writeStep(projection: TenantProjection): Promise<void> {
    const { views } = this;
    const keys: KeyView[] = [];
    const principals: PrincipalView[] = [];
    const tenants: TenantView[] = [];
    for (const id of projection.dirty) {
      const key = projection.keys.get(id);
      const principal = key ? undefined : projection.principals.get(id);
      if (key) keys.push(key);
      else if (principal) principals.push(principal);
      else if (id === projection.tenantId && projection.tenant) tenants.push(projection.tenant);
    }
    // Pending dates before the key views: a step redone after a crash finds its keys behind and
    // writes both again, so that view_due never misses a date a stored key view holds.
    await writeDue(views.due, projection, keys);
    await Promise.all([replaceAll(views.keys, keys), replaceAll(views.principals, principals), replaceAll(views.tenants, tenants)]);
    projection.dirty.clear();
    const { tenantId, lastSeq, lastHash } = projection;
    const index = tenantIndexOf(tenantId, lastSeq, projection.tenant, projection.keys.values(), projection.principals.values());
    if (indexFits(index, this.maxIndexBytes)) await upserting(() => views.indexes.replaceOne({ _id: tenantId }, index, { upsert: true }));
    else await views.indexes.deleteOne({ _id: tenantId });
    await upserting(() => views.checkpoints.replaceOne({ _id: tenantId }, { lastSeq, lastHash }, { upsert: true }));
  }

  private async projection(tenantId: string): Promise<TenantProjection> {
    const cached = this.tenants.get(tenantId);
    if (cached) {
      // Least recently used order: a busy tenant is never the one dropped for a new one.
      this.tenants.delete(tenantId);
      this.tenants.set(tenantId, cached);
      return cached;
    }
    const projection = await this.load(tenantId);
    if (this.tenants.size >= this.maxCachedTenants) {
      const oldest = this.tenants.keys().next().value;
      if (oldest !== undefined) this.tenants.delete(oldest);
    }
    this.tenants.set(tenantId, projection);
    return projection;
  }

  /**
   * Loads a tenant by `_id` reads only (checkpoint, index, tenant view, then the views the index
   * lists), rebuilds it from the log if the views do not agree with the index, then completes any
   * claimed step beyond its checkpoint.
   */
  private async load(tenantId: string): Promise<TenantProjection> {
    const { views } = this;
    const [checkpoint, index, tenant] = await Promise.all([
      views.checkpoints.findOne({ _id: tenantId }),
      views.indexes.findOne({ _id: tenantId }),
      views.tenants.findOne({ _id: tenantId }),
    ]);
    const lastSeq = checkpoint?.lastSeq ?? 0;
    let projection = new TenantProjection(tenantId);
    if (index !== null && index.lastSeq >= lastSeq && !olderViewSchema(index)) {
      // Only what the index lists is trusted: a document beyond it is written again from the log.
      const [keys, principals] = await Promise.all([
        readByIds(
          views.keys,
          index.keys.map((e) => viewId(tenantId, e.keyId)),
        ),
        readByIds(
          views.principals,
          index.principals.map((e) => viewId(tenantId, e.principalId)),
        ),
      ]);
      const keyViews = new Map(keys.flatMap((k) => (k ? [[k.keyId, k] as const] : [])));
      const principalViews = new Map(principals.flatMap((p) => (p ? [[p.principalId, p] as const] : [])));
      if (viewsAgreeWithIndex(index, tenant, keyViews, principalViews)) {
        projection.load(checkpoint, index.tenantSeq === null ? null : tenant, [...keyViews.values()], [...principalViews.values()]);
      } else {
        projection = await this.rebuild(tenantId, lastSeq);
      }
    } else if (lastSeq > 0) {
      // No index (views written before there was one), an index older than the checkpoint, or views
      // an older version of the projection wrote (VIEW_SCHEMA_VERSION): the log says what they are now.
      projection = await this.rebuild(tenantId, lastSeq);
    }
    for (let claim = await this.claimed(tenantId, projection.lastSeq); claim; claim = await this.claimed(tenantId, projection.lastSeq)) {
      await this.fill(projection, claim.toSeq);
      await this.writeStep(projection);
    }
    return projection;
  }

  /** The tenant folded from its log up to `lastSeq`, every document written again (the state at that seq). */
  private async rebuild(tenantId: string, lastSeq: number): Promise<TenantProjection> {
    const projection = new TenantProjection(tenantId);
    await this.fill(projection, lastSeq);
    await this.writeStep(projection);
    return projection;
  }
}

/**
 * Runs an upserting replace again when it meets a duplicate key: two writers upserting a document
 * that did not exist both insert it, and one of them is refused; the second attempt replaces it.
 */
async function upserting<R>(write: () => Promise<R>): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err: unknown) {
      if ((err as { code?: number }).code !== 11000 || attempt >= 3) throw err;
    }
  }
}

/** Replaces (or inserts) each document by `_id`, at most MAX_UPDATES_PER_COMMAND per command. */
async function replaceAll<T extends Document & { _id: string }>(
  collection: Pick<Collection<T>, 'bulkWrite'>,
  docs: readonly T[],
): Promise<void> {
  await writeInBatches(docs, async (batch) => {
    const ops = batch.map(
      (doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } }) as unknown as AnyBulkWriteOperation<T>,
    );
    const result = await upserting(() => collection.bulkWrite(ops, { ordered: false }));
    if (result.matchedCount + result.upsertedCount !== batch.length) {
      throw new Error(`wrote ${result.matchedCount + result.upsertedCount} of ${batch.length} view documents`);
    }
  });
}

/**
 * Brings view_due in line with these key views of the projection: the document of each key with a
 * pending date replaced, that of a key whose dates are gone (or done) deleted. A key not known to
 * have a stored document (a tenant rebuilt from its log) is not deleted: a leftover document only
 * costs the scheduler a refused decision.
 */
async function writeDue(collection: Collection<DueDocument>, projection: TenantProjection, keys: readonly KeyView[]): Promise<void> {
  const due: DueView[] = [];
  const gone: string[] = [];
  for (const key of keys) {
    const doc = dueViewOf(key);
    if (doc !== null) due.push(doc);
    else if (projection.storedDue.has(key._id)) gone.push(key._id);
  }
  await replaceAll(collection, due);
  await writeInBatches(gone, async (batch) => {
    await collection.bulkWrite(
      batch.map((_id) => ({ deleteOne: { filter: { _id } } })),
      { ordered: false },
    );
  });
  for (const doc of due) projection.storedDue.add(doc._id);
  for (const id of gone) projection.storedDue.delete(id);
}
