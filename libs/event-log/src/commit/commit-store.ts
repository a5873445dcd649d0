import type { Collection, Db } from 'mongodb';
import type { Commit, CommitDocument } from './commit';
import { commitId } from './commit';
import { insertAllIgnoringDuplicates, insertIgnoringDuplicate, isDuplicateKey } from './duplicate-inserts';
import { inBatches, writeInBatches } from './update-batches';

/** Raised when another writer stored the commit at this seq first. */
export class ConcurrencyConflict extends Error {
  constructor(
    readonly tenantId: string,
    readonly seq: number,
  ) {
    super(`commit ${tenantId}:${seq} already exists`);
    this.name = 'ConcurrencyConflict';
  }
}

export const COMMITS = 'commits';
/** One small marker per commit not yet published (`_id` = the commit's): what the relay's sweep reads. */
export const COMMIT_OUTBOX = 'commit_outbox';
/** Per tenant (`_id` = tenantId), a lower bound of its newest seq: where `head` starts probing. */
export const COMMIT_HEADS = 'commit_heads';
/** Bookkeeping of the commit log (`_id` = what it records), e.g. that the outbox was backfilled. */
export const COMMIT_LOG_META = 'commit_log_meta';

/** A commit's outbox marker: enough to order and age it without reading the commit. */
export interface OutboxMarker {
  readonly _id: string;
  readonly tenantId: string;
  readonly seq: number;
  readonly committedAt: string;
}

export interface HeadHint {
  readonly _id: string;
  readonly seq: number;
}

interface MetaDocument {
  readonly _id: string;
  readonly at: string;
}

/** Point reads by `_id` in flight at once (getMany, load, head's first probes). */
const ID_READS_AT_ONCE = 8;
/** Most outbox markers one sweep reads (the outbox holds unpublished work only, so normally far fewer). */
const OUTBOX_READ_MAX = 5_000;
/** Inserts per command of the one-time outbox backfill. */
const BACKFILL_INSERTS_PER_COMMAND = 500;
const BACKFILL_DONE = 'outbox-backfill';
/**
 * A marker whose commit still does not exist this long after the commit's `committedAt` belongs
 * to an append that failed or crashed between the two inserts: the sweep deletes it. An append
 * that took SLOW_APPEND_MS or longer from its marker to its commit re-inserts its marker, so that
 * such a deletion cannot strand a commit that did land (see `append`). The gap between the two
 * leaves room for clock skew between the writer and the relay.
 */
export const ORPHAN_MARKER_AGE_MS = 5 * 60_000;
export const SLOW_APPEND_MS = 60_000;

/**
 * The per-tenant commit log in MongoDB. One single-document insert per commit: atomic on
 * MongoDB and FerretDB alike; the unique `_id` (`tenantId:seq`) is the concurrency check.
 *
 * Every operation a request or a periodic loop uses is built from inserts and reads or writes by
 * `_id` alone (the only filter FerretDB's SQLite backend hands to SQLite, where an index serves
 * it; anything else decodes the whole collection), plus reads of the outbox, whose size is the
 * unpublished work. The log is gap-free per tenant (seq n+1 is only appended once n exists), so a
 * tenant's commits are found by walking `_id`s forward until the first one that does not exist.
 */
export class CommitStore {
  readonly commits: Collection<CommitDocument>;
  readonly outbox: Collection<OutboxMarker>;
  readonly heads: Collection<HeadHint>;
  private readonly meta: Collection<MetaDocument>;

  constructor(db: Db) {
    this.commits = db.collection<CommitDocument>(COMMITS);
    this.outbox = db.collection<OutboxMarker>(COMMIT_OUTBOX);
    this.heads = db.collection<HeadHint>(COMMIT_HEADS);
    this.meta = db.collection<MetaDocument>(COMMIT_LOG_META);
  }

  /**
   * `tenant_seq` serves the audit's reads of a tenant's commits on MongoDB. Nothing filters on
   * `published` any more (the relay reads the outbox), so the former `outbox` index on
   * `{published, committedAt}` is no longer created; an existing one is left alone.
   */
  async ensureIndexes(): Promise<void> {
    await this.commits.createIndex({ tenantId: 1, seq: 1 }, { unique: true, name: 'tenant_seq' }, undefined);
  }

  /**
   * Stores a commit: its outbox marker first, then the commit (the insert that decides the
   * race), then the tenant's head hint. A crash or failure between the marker and the commit
   * leaves a marker without a commit, which the sweep skips and later deletes (ORPHAN_MARKER_AGE_MS);
   * a later append at that seq finds the marker there, which is fine. A crash after the commit
   * leaves it unpublished with its marker: the sweep publishes it. A stale head hint only costs
   * `head` a few more reads.
   */
  async append(commit: Commit): Promise<void> {
    const _id = commitId(commit.tenantId, commit.seq);
    const marker: OutboxMarker = { _id, tenantId: commit.tenantId, seq: commit.seq, committedAt: commit.committedAt };
    const started = performance.now();
    await this.insertMarker(marker);
    // Before a tenant's first commit: its hint document, so that `tenantIds` never misses a tenant.
    if (commit.seq === 1) await insertIgnoringDuplicate(this.heads, { _id: commit.tenantId, seq: 0 });
    try {
      await this.commits.insertOne({ ...commit, _id, published: false }, { writeConcern: { w: 'majority' } });
    } catch (err: unknown) {
      if (isDuplicateKey(err)) throw new ConcurrencyConflict(commit.tenantId, commit.seq);
      throw err;
    }
    // So slow that a sweep may have taken the marker for an orphan and deleted it: put it back.
    if (performance.now() - started >= SLOW_APPEND_MS) await this.insertMarker(marker);
    await this.heads.updateOne({ _id: commit.tenantId }, { $max: { seq: commit.seq } }, { upsert: true }).catch(() => undefined);
  }

  /**
   * Commits of a tenant with `afterSeq < seq <= toSeq`, in order: point reads of their `_id`s,
   * up to ID_READS_AT_ONCE in flight, until `toSeq` or the first seq that does not exist. An
   * open-ended load starts with one read and doubles its window, so that catching up on nothing
   * (the common case) costs one read and a cold tenant of n commits about n/8 round trips.
   */
  async load(tenantId: string, afterSeq = 0, toSeq = Number.MAX_SAFE_INTEGER): Promise<CommitDocument[]> {
    const found: CommitDocument[] = [];
    let next = afterSeq + 1;
    let window = toSeq === Number.MAX_SAFE_INTEGER ? 1 : ID_READS_AT_ONCE;
    while (next <= toSeq) {
      const seqs: number[] = [];
      for (let seq = next; seq <= toSeq && seqs.length < window; seq++) seqs.push(seq);
      const docs = await Promise.all(seqs.map((seq) => this.get(tenantId, seq)));
      for (const doc of docs) {
        if (!doc) return found;
        found.push(doc);
      }
      next += seqs.length;
      window = Math.min(window * 2, ID_READS_AT_ONCE);
    }
    return found;
  }

  async get(tenantId: string, seq: number): Promise<CommitDocument | null> {
    const doc = await this.commits.findOne({ _id: commitId(tenantId, seq) });
    return doc && doc.tenantId === tenantId && doc.seq === seq ? doc : null;
  }

  /**
   * The stored commits with these `_id`s, in no particular order: point reads, ID_READS_AT_ONCE in
   * flight. (A `$in` is served by the `_id` index on MongoDB but decodes every commit on
   * FerretDB's SQLite backend, where a read by `_id` alone is an index lookup.)
   */
  async getMany(ids: readonly string[]): Promise<CommitDocument[]> {
    const found: CommitDocument[] = [];
    for (const batch of inBatches(ids, ID_READS_AT_ONCE)) {
      for (const doc of await Promise.all(batch.map((_id) => this.commits.findOne({ _id })))) if (doc) found.push(doc);
    }
    return found;
  }

  /**
   * The tenant's newest commit. Starts from its head hint (a lower bound: written after each
   * append without any atomicity, and missing for logs written before hints existed) and checks
   * it: the hinted commit and the next one, read together, answer in the common case. Otherwise
   * it gallops forward from the highest seq known to exist (1, 2, 4, ... past it) and bisects
   * between that and the first seq known not to exist: O(log n) reads for a tenant of n commits
   * whatever the hint says, even one beyond the log (a restore that dropped commits).
   */
  async head(tenantId: string): Promise<CommitDocument | null> {
    const hint = (await this.heads.findOne({ _id: tenantId }))?.seq ?? 0;
    let low: CommitDocument | null = null; // the highest commit known to exist
    let high = Number.POSITIVE_INFINITY; // the lowest seq known not to exist
    if (hint > 0) {
      const [atHint, afterHint] = await Promise.all([this.get(tenantId, hint), this.get(tenantId, hint + 1)]);
      if (!atHint) high = hint;
      else if (!afterHint) return atHint;
      else low = afterHint;
    }
    for (let step = 1; high === Number.POSITIVE_INFINITY; step *= 2) {
      const seq = (low?.seq ?? 0) + step;
      const doc = await this.get(tenantId, seq);
      if (doc) low = doc;
      else high = seq;
    }
    while (high - (low?.seq ?? 0) > 1) {
      const seq = Math.floor(((low?.seq ?? 0) + high) / 2);
      const doc = await this.get(tenantId, seq);
      if (doc) low = doc;
      else high = seq;
    }
    return low;
  }

  /**
   * Unpublished commits, ordered per tenant by seq: the outbox's markers (up to OUTBOX_READ_MAX),
   * then their commits by `_id`. Tidies the outbox on the way: a marker whose commit is already
   * published (a crash between marking and deleting it) is deleted, and so is one whose commit
   * still does not exist ORPHAN_MARKER_AGE_MS after it was decided (a failed append).
   */
  async unpublished(limit: number, now = Date.now()): Promise<CommitDocument[]> {
    const markers = (await this.outbox.find({}).limit(OUTBOX_READ_MAX).toArray()).sort((a, b) =>
      a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : a.seq - b.seq,
    );
    const pending: CommitDocument[] = [];
    const done: string[] = [];
    const orphans: OutboxMarker[] = [];
    for (let i = 0; i < markers.length && pending.length < limit;) {
      const batch = markers.slice(i, i + Math.min(ID_READS_AT_ONCE, limit - pending.length));
      i += batch.length;
      const docs = await Promise.all(batch.map((m) => this.commits.findOne({ _id: m._id })));
      batch.forEach((marker, j) => {
        const doc = docs[j];
        if (doc?.published === true) done.push(marker._id);
        else if (doc) pending.push(doc);
        else if (now - Date.parse(marker.committedAt) >= ORPHAN_MARKER_AGE_MS) orphans.push(marker);
      });
    }
    await this.deleteMarkers(done);
    await this.deleteOrphans(orphans);
    return this.inOrder(pending, new Set(done));
  }

  /**
   * Drops the commits of a tenant whose first pending seq follows a commit not yet published: with
   * more than OUTBOX_READ_MAX markers, the read above may miss a tenant's lower seqs, and the topic
   * must carry each tenant's commits in seq order. One read by `_id` per tenant, only when the
   * predecessor's marker was not among those read.
   */
  private async inOrder(pending: CommitDocument[], publishedIds: ReadonlySet<string>): Promise<CommitDocument[]> {
    const firsts = new Map<string, CommitDocument>();
    for (const doc of pending) if (!firsts.has(doc.tenantId)) firsts.set(doc.tenantId, doc);
    const toCheck = [...firsts.values()].filter((d) => d.seq > 1 && !publishedIds.has(commitId(d.tenantId, d.seq - 1)));
    const blocked = new Set<string>();
    for (const batch of inBatches(toCheck, ID_READS_AT_ONCE)) {
      const before = await Promise.all(
        batch.map((d) => this.commits.findOne({ _id: commitId(d.tenantId, d.seq - 1) }, { projection: { published: 1 } })),
      );
      batch.forEach((d, j) => {
        if (before[j]?.published !== true) blocked.add(d.tenantId);
      });
    }
    return blocked.size === 0 ? pending : pending.filter((d) => !blocked.has(d.tenantId));
  }

  /** The oldest unpublished commit (by `committedAt`), from the outbox: the relay's lag. */
  async oldestUnpublished(): Promise<CommitDocument | null> {
    const markers = (await this.outbox.find({}).limit(OUTBOX_READ_MAX).toArray()).sort((a, b) =>
      a.committedAt < b.committedAt ? -1 : a.committedAt > b.committedAt ? 1 : 0,
    );
    for (const batch of inBatches(markers, ID_READS_AT_ONCE)) {
      const docs = await Promise.all(batch.map((m) => this.commits.findOne({ _id: m._id })));
      const oldest = docs.find((doc) => doc !== null && !doc.published);
      if (oldest) return oldest;
    }
    return null;
  }

  /**
   * Marks the commits published, then deletes their outbox markers: one statement per commit,
   * each by `_id`, at most MAX_UPDATES_PER_COMMAND to a command. A crash between the two leaves
   * markers of published commits, which the next sweep deletes without republishing.
   */
  async markPublished(ids: readonly string[]): Promise<void> {
    await writeInBatches(ids, (batch) =>
      this.commits.bulkWrite(
        batch.map((_id) => ({ updateOne: { filter: { _id }, update: { $set: { published: true } } } })),
        { ordered: false },
      ),
    );
    await this.deleteMarkers(ids);
  }

  /**
   * Every tenant with a commit, sorted: the head hint documents (one per tenant, the first
   * inserted before the tenant's first commit). A store not yet backfilled (written before hints
   * existed) answers from `distinct` over `commits` instead, a scan on FerretDB.
   */
  async tenantIds(): Promise<string[]> {
    if (!(await this.meta.findOne({ _id: BACKFILL_DONE }))) return (await this.commits.distinct('tenantId')).sort();
    return (await this.heads.find({}, { projection: { _id: 1 } }).toArray()).map((h) => h._id).sort();
  }

  /**
   * Every tenant's head hint (`_id` = tenantId, `seq` a lower bound of its newest seq, exact unless
   * an append failed or crashed after its commit), read in one pass over one small document per
   * tenant; `null` for a store not yet backfilled (written before hints existed), whose hints are
   * missing or incomplete.
   */
  async headHints(): Promise<Map<string, number> | null> {
    if (!(await this.meta.findOne({ _id: BACKFILL_DONE }))) return null;
    const hints = new Map<string, number>();
    for await (const hint of this.heads.find({}, { batchSize: 1_000 })) hints.set(hint._id, hint.seq);
    return hints;
  }

  /** Raises the head hints of these tenants to at least these seqs (for writers that insert commits directly: a restore). */
  async raiseHeadHints(heads: Iterable<readonly [tenantId: string, seq: number]>): Promise<void> {
    await writeInBatches([...heads], (batch) =>
      this.heads.bulkWrite(
        batch.map(([_id, seq]) => ({ updateOne: { filter: { _id }, update: { $max: { seq } }, upsert: true } })),
        { ordered: false },
      ),
    );
  }

  /**
   * Brings a log written before the outbox and head hints existed up to date, once per store
   * (recorded in COMMIT_LOG_META; later calls cost one read by `_id`): every unpublished commit
   * gets its marker, every tenant its head hint. The one time, it reads every commit (tenantId,
   * seq, published, committedAt): a scan of the whole collection, seconds per 10,000 commits on
   * FerretDB's SQLite backend. Writers of the old code still running afterwards would store
   * commits without markers (only their own relay would publish them) and tenants without hints:
   * upgrade every writer (key-api, kmip) together. Returns how many markers it inserted.
   */
  async backfillOutbox(): Promise<number> {
    if (await this.meta.findOne({ _id: BACKFILL_DONE })) return 0;
    const unpublished: Pick<CommitDocument, '_id' | 'tenantId' | 'seq' | 'committedAt'>[] = [];
    const heads = new Map<string, number>();
    const all = this.commits.find({}, { projection: { _id: 1, tenantId: 1, seq: 1, published: 1, committedAt: 1 }, batchSize: 1_000 });
    for await (const c of all) {
      heads.set(c.tenantId, Math.max(heads.get(c.tenantId) ?? 0, c.seq));
      if (!c.published) unpublished.push(c);
    }
    await this.raiseHeadHints(heads);
    const markers = unpublished.map((c): OutboxMarker => ({ _id: c._id, tenantId: c.tenantId, seq: c.seq, committedAt: c.committedAt }));
    const inserted = await insertAllIgnoringDuplicates(this.outbox, markers, BACKFILL_INSERTS_PER_COMMAND);
    await insertIgnoringDuplicate(this.meta, { _id: BACKFILL_DONE, at: new Date().toISOString() });
    return inserted;
  }

  /** An earlier attempt at this seq (failed, or a concurrent writer's) may have left it: one is enough. */
  private insertMarker(marker: OutboxMarker): Promise<void> {
    return insertIgnoringDuplicate(this.outbox, marker);
  }

  private async deleteMarkers(ids: readonly string[]): Promise<void> {
    await writeInBatches(ids, (batch) =>
      this.outbox.bulkWrite(
        batch.map((_id) => ({ deleteOne: { filter: { _id } } })),
        { ordered: false },
      ),
    );
  }

  /**
   * Deletes markers whose commit never came, then reads each commit once more: one that landed
   * meanwhile (an append slower than ORPHAN_MARKER_AGE_MS) gets its marker back. An append whose
   * commit lands after that read took longer than SLOW_APPEND_MS and re-inserts the marker itself.
   */
  private async deleteOrphans(orphans: readonly OutboxMarker[]): Promise<void> {
    if (orphans.length === 0) return;
    await this.deleteMarkers(orphans.map((m) => m._id));
    for (const batch of inBatches(orphans, ID_READS_AT_ONCE)) {
      const docs = await Promise.all(batch.map((m) => this.commits.findOne({ _id: m._id })));
      for (const [j, marker] of batch.entries()) if (docs[j] && !docs[j].published) await this.insertMarker(marker);
    }
  }
}
