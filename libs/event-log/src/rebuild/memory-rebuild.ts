import type { AnyBulkWriteOperation, Document } from 'mongodb';
import type { Commit } from '../commit/commit';
import { chainBreak, type ChainBreak } from '../commit/hash-chain';
import { inBatches, MAX_UPDATES_PER_COMMAND } from '../commit/update-batches';
import { dueViewOf, type DueDocument, type DueView } from '../projection/due-dates';
import { indexFits, tenantIndexOf } from '../projection/tenant-index';
import { TenantProjection } from '../projection/tenant-projection';
import type { Checkpoint, KeyView, PrincipalView, TenantIndex, TenantView } from '../projection/views';

/** A commit whose hash or link to its predecessor does not hold (the log was altered). */
export interface ReplayChainProblem {
  readonly tenantId: string;
  readonly seq: number;
  readonly problem: Exclude<ChainBreak, 'gap'>;
}

/** What a rebuild writes to: the view collections (ViewCollections in production). */
export interface RebuildTarget {
  readonly keys: WritableCollection<KeyView>;
  readonly principals: WritableCollection<PrincipalView>;
  readonly tenants: WritableCollection<TenantView>;
  readonly checkpoints: WritableCollection<Checkpoint>;
  readonly indexes: WritableCollection<TenantIndex>;
  readonly due: WritableCollection<DueDocument>;
}

export interface WritableCollection<T extends Document> {
  insertMany(docs: T[], options: { ordered: boolean }): Promise<{ insertedCount: number }>;
  bulkWrite(ops: AnyBulkWriteOperation<T>[], options: { ordered: boolean }): Promise<{ matchedCount: number; upsertedCount: number }>;
}

/** Where gaps of the topic are filled from (CommitStore in production). */
export interface GapSource {
  load(tenantId: string, afterSeq: number, toSeq: number): Promise<readonly Commit[]>;
}

export interface MemoryRebuildOptions {
  /** View-writing requests in flight at once (the store converts documents on several cores while one writes). */
  readonly writeConcurrency?: number;
  /** Documents per insert request. */
  readonly chunk?: number;
}

export interface MemoryRebuildResult {
  readonly commits: number;
  readonly events: number;
  readonly duplicates: number;
  readonly gapFilled: number;
  readonly tenants: number;
  /** Every commit applied was hash-checked and linked to its predecessor; the problems found. */
  readonly chainProblems: readonly ReplayChainProblem[];
  readonly documentsWritten: number;
  /** Seconds some write request was in flight (writes overlap reading, so this is not additive). */
  readonly writeBusySeconds: number;
  /** Seconds the fold (hash check + evolve) took, on this thread. */
  readonly foldSeconds: number;
}

interface Group {
  readonly tenants: readonly string[];
  readonly done: Promise<void>;
}

/**
 * Rebuilds the views from the whole log, folding each tenant in memory (the live projector's
 * TenantProjection, so the documents are the same) and writing every document once, in bulk.
 * The writes overlap the reading: a tenant's views are final once every partition it was read
 * from has reached its end, so they are written then, in the background, while the other
 * partitions are still read. A tenant that shows up again later (its key moved to another
 * partition) is written again, by replacing what was written.
 *
 * Every commit applied is checked: it hashes to its own hash and points at its predecessor's.
 * The views need a consistent log, not a trusted one, so a problem does not stop the rebuild: it is
 * reported in the result, and the callers fail on it.
 */
export class MemoryRebuild {
  private readonly projections = new Map<string, TenantProjection>();
  private readonly partitionsOf = new Map<string, Set<number>>();
  private readonly tenantsOf = new Map<number, Set<string>>();
  private readonly donePartitions = new Set<number>();
  /** The seq of each tenant's checkpoint as written (or being written). */
  private readonly checkpointSeq = new Map<string, number>();
  private readonly lastWrite = new Map<string, Promise<void>>();
  private readonly groups: Group[] = [];
  private readonly chainProblems: ReplayChainProblem[] = [];
  private readonly writeConcurrency: number;
  private readonly chunk: number;
  private readonly waiting: (() => void)[] = [];
  private inFlight = 0;
  private busySince = 0;
  private busyMs = 0;
  private foldMs = 0;
  private failure: Error | undefined;
  private counts = { commits: 0, events: 0, duplicates: 0, gapFilled: 0, documents: 0 };

  constructor(
    private readonly views: RebuildTarget,
    private readonly store: GapSource,
    options: MemoryRebuildOptions = {},
  ) {
    this.writeConcurrency = Math.max(1, options.writeConcurrency ?? 3);
    this.chunk = Math.max(1, options.chunk ?? 500);
  }

  /** Events folded so far. */
  get events(): number {
    return this.counts.events;
  }

  /** Folds commits read from `partition` (duplicates skipped, gaps filled from the store). */
  async apply(commits: readonly Commit[], partition = 0): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    let mark = performance.now();
    for (const commit of commits) {
      const tenantId = commit.tenantId;
      let projection = this.projections.get(tenantId);
      if (!projection) this.projections.set(tenantId, (projection = new TenantProjection(tenantId)));
      this.track(tenantId, partition);
      if (commit.seq <= projection.lastSeq) {
        this.counts.duplicates += 1;
        continue;
      }
      if (commit.seq > projection.lastSeq + 1) {
        this.foldMs += performance.now() - mark;
        const missing = await this.store.load(tenantId, projection.lastSeq, commit.seq - 1);
        mark = performance.now();
        for (const m of missing) {
          if (m.seq !== projection.lastSeq + 1) throw new Error(`commit ${tenantId}:${projection.lastSeq + 1} is missing from the store`);
          this.fold(projection, m);
          this.counts.gapFilled += 1;
        }
        if (commit.seq !== projection.lastSeq + 1)
          throw new Error(`commit ${tenantId}:${projection.lastSeq + 1} is missing from the store`);
      }
      this.fold(projection, commit);
    }
    this.foldMs += performance.now() - mark;
  }

  /** A partition was read to its end: write the views of the tenants that are now complete. */
  partitionDone(partition: number): void {
    this.donePartitions.add(partition);
    const ready = [...(this.tenantsOf.get(partition) ?? [])].filter((t) =>
      [...(this.partitionsOf.get(t) ?? [])].every((p) => this.donePartitions.has(p)),
    );
    this.schedule(ready);
  }

  /** Writes whatever is left, waits for every write, and answers what was rebuilt. */
  async finish(): Promise<MemoryRebuildResult> {
    this.schedule([...this.projections.keys()]);
    // Groups scheduled while waiting are waited for too.
    for (let i = 0; i < this.groups.length; i++) await this.groups[i]?.done;
    if (this.failure !== undefined) throw this.failure;
    return {
      commits: this.counts.commits,
      events: this.counts.events,
      duplicates: this.counts.duplicates,
      gapFilled: this.counts.gapFilled,
      tenants: this.projections.size,
      chainProblems: [...this.chainProblems],
      documentsWritten: this.counts.documents,
      writeBusySeconds: this.busyMs / 1000,
      foldSeconds: this.foldMs / 1000,
    };
  }

  private fold(projection: TenantProjection, commit: Commit): void {
    // apply() hands over the next seq only: what can break here is the hash or the link.
    const broken = chainBreak({ seq: projection.lastSeq, hash: projection.lastHash }, commit);
    if (broken !== undefined && broken !== 'gap')
      this.chainProblems.push({ tenantId: projection.tenantId, seq: commit.seq, problem: broken });
    projection.apply(commit);
    this.counts.commits += 1;
    this.counts.events += commit.events.length;
  }

  private track(tenantId: string, partition: number): void {
    let partitions = this.partitionsOf.get(tenantId);
    if (!partitions) this.partitionsOf.set(tenantId, (partitions = new Set()));
    if (partitions.has(partition)) return;
    partitions.add(partition);
    let tenants = this.tenantsOf.get(partition);
    if (!tenants) this.tenantsOf.set(partition, (tenants = new Set()));
    tenants.add(tenantId);
  }

  /**
   * Takes the changed documents of these tenants as they are now (the projection replaces a
   * document when it changes, never mutates it) and writes them in the background: inserts for
   * documents never written, replacements for the others; each tenant's checkpoint after its views.
   */
  private schedule(tenantIds: readonly string[]): void {
    const keys: KeyView[] = [];
    const principals: PrincipalView[] = [];
    const tenants: TenantView[] = [];
    const replaced: { keys: KeyView[]; principals: PrincipalView[]; tenants: TenantView[] } = { keys: [], principals: [], tenants: [] };
    const due: DueView[] = [];
    const replacedDue: DueView[] = [];
    const dueGone: string[] = [];
    const checkpoints: Checkpoint[] = [];
    const replacedCheckpoints: Checkpoint[] = [];
    const indexes: TenantIndex[] = [];
    const replacedIndexes: TenantIndex[] = [];
    const group: string[] = [];
    for (const tenantId of tenantIds) {
      const projection = this.projections.get(tenantId);
      if (!projection || (projection.dirty.size === 0 && this.checkpointSeq.get(tenantId) === projection.lastSeq)) continue;
      group.push(tenantId);
      for (const id of projection.dirty) {
        const key = projection.keys.get(id);
        const principal = key ? undefined : projection.principals.get(id);
        const tenant = key || principal || id !== tenantId ? undefined : projection.tenant;
        const doc = key ?? principal ?? tenant;
        if (!doc) continue;
        const fresh = !projection.storedSeq.has(id);
        projection.storedSeq.set(id, doc.appliedSeq);
        if (key) {
          (fresh ? keys : replaced.keys).push(key);
          const pending = dueViewOf(key);
          if (pending !== null) (fresh ? due : replacedDue).push(pending);
          else if (!fresh) dueGone.push(key._id);
        } else if (principal) (fresh ? principals : replaced.principals).push(principal);
        else if (tenant) (fresh ? tenants : replaced.tenants).push(tenant);
      }
      projection.dirty.clear();
      const checkpoint = { _id: tenantId, lastSeq: projection.lastSeq, lastHash: projection.lastHash };
      const index = tenantIndexOf(
        tenantId,
        projection.lastSeq,
        projection.tenant,
        projection.keys.values(),
        projection.principals.values(),
      );
      // A tenant written again whose index no longer fits keeps the one written before: the live
      // projector deletes it then; rare enough (a tenant split across partitions) to fail instead.
      if (indexFits(index)) (this.checkpointSeq.has(tenantId) ? replacedIndexes : indexes).push(index);
      else if (this.checkpointSeq.has(tenantId)) throw new Error(`the index of ${tenantId} outgrew its bound while it was rebuilt`);
      (this.checkpointSeq.has(tenantId) ? replacedCheckpoints : checkpoints).push(checkpoint);
      this.checkpointSeq.set(tenantId, projection.lastSeq);
    }
    if (group.length === 0) return;
    // A tenant written again waits for its earlier write: a replacement must not overtake the insert.
    const before = group.flatMap((t) => {
      const previous = this.lastWrite.get(t);
      return previous ? [previous] : [];
    });
    const done = (async () => {
      await Promise.all(before);
      const { views } = this;
      // Pending dates before the key views, as the live projector writes them.
      await Promise.all([
        ...this.inserts(views.due, due),
        ...this.replacements(views.due, replacedDue),
        ...this.deletions(views.due, dueGone),
      ]);
      await Promise.all([
        ...this.inserts(views.keys, keys),
        ...this.inserts(views.principals, principals),
        ...this.inserts(views.tenants, tenants),
        ...this.replacements(views.keys, replaced.keys),
        ...this.replacements(views.principals, replaced.principals),
        ...this.replacements(views.tenants, replaced.tenants),
      ]);
      // Then each tenant's index, and the checkpoints last, as the live projector writes them.
      await Promise.all([...this.inserts(views.indexes, indexes), ...this.replacements(views.indexes, replacedIndexes)]);
      await Promise.all([...this.inserts(views.checkpoints, checkpoints), ...this.replacements(views.checkpoints, replacedCheckpoints)]);
    })().catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    });
    for (const t of group) this.lastWrite.set(t, done);
    this.groups.push({ tenants: group, done });
  }

  private inserts<T extends Document>(collection: WritableCollection<T>, docs: T[]): Promise<void>[] {
    const out: Promise<void>[] = [];
    for (let i = 0; i < docs.length; i += this.chunk) {
      const slice = docs.slice(i, i + this.chunk);
      out.push(
        this.limited(async () => {
          const result = await collection.insertMany(slice, { ordered: false });
          if (result.insertedCount !== slice.length) throw new Error(`inserted ${result.insertedCount} of ${slice.length} view documents`);
          this.counts.documents += slice.length;
        }),
      );
    }
    return out;
  }

  private replacements<T extends Document & { _id: string }>(collection: WritableCollection<T>, docs: T[]): Promise<void>[] {
    const out: Promise<void>[] = [];
    for (const slice of inBatches(docs, Math.min(this.chunk, MAX_UPDATES_PER_COMMAND))) {
      const ops = slice.map(
        (doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } }) as unknown as AnyBulkWriteOperation<T>,
      );
      out.push(
        this.limited(async () => {
          const result = await collection.bulkWrite(ops, { ordered: false });
          if (result.matchedCount + result.upsertedCount !== slice.length)
            throw new Error(`replaced ${result.matchedCount + result.upsertedCount} of ${slice.length} view documents`);
          this.counts.documents += slice.length;
        }),
      );
    }
    return out;
  }

  private deletions<T extends Document & { _id: string }>(collection: WritableCollection<T>, ids: string[]): Promise<void>[] {
    return inBatches(ids, Math.min(this.chunk, MAX_UPDATES_PER_COMMAND)).map((slice) =>
      this.limited(async () => {
        await collection.bulkWrite(
          slice.map((_id) => ({ deleteOne: { filter: { _id } } }) as unknown as AnyBulkWriteOperation<T>),
          { ordered: false },
        );
      }),
    );
  }

  /** Runs `fn` when fewer than writeConcurrency writes are in flight. */
  private async limited(fn: () => Promise<void>): Promise<void> {
    while (this.inFlight >= this.writeConcurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.failure !== undefined) return;
    if (this.inFlight === 0) this.busySince = performance.now();
    this.inFlight += 1;
    try {
      await fn();
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.busyMs += performance.now() - this.busySince;
      this.waiting.shift()?.();
    }
  }
}
