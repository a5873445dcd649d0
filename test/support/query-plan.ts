import type { Collection, Document, Filter } from 'mongodb';

/**
 * Whether a store query is answered through an index, from the store's own `explain`, on both
 * stores Keyward runs on:
 *
 * - FerretDB 1.24 (SQLite backend, the embedded default; recognised by the `filterPushdown` and
 *   `queryPlanner.Plan` fields of its explain answer): FerretDB must push the filter down to SQL
 *   (`filterPushdown: true`, which it does only for a pure `{_id: <string|ObjectId>}` filter) and
 *   SQLite's plan must search with an index (`SEARCH <table> USING INDEX ...`), not `SCAN` the
 *   table. The index on the expression FerretDB queries is kept by infra/ferretdb (idindex.go).
 * - MongoDB: the winning plan uses an index (`IDHACK`, `EXPRESS_IXSCAN`, `IXSCAN`, ...) and has no
 *   `COLLSCAN`.
 */
export type PlannedOp = 'find' | 'update' | 'delete';

export interface PlanVerdict {
  readonly store: 'ferretdb' | 'mongodb';
  readonly indexed: boolean;
  /** The plan in one line, for failure messages. */
  readonly detail: string;
}

const INDEX_STAGES = new Set(['IDHACK', 'IXSCAN', 'EXPRESS_IXSCAN', 'EXPRESS_CLUSTERED_IXSCAN', 'COUNT_SCAN', 'DISTINCT_SCAN']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True for FerretDB's explain answer (its extensions to MongoDB's). */
export function isFerretDbExplain(explain: Document): boolean {
  return typeof explain.filterPushdown === 'boolean' && isRecord(explain.queryPlanner) && Array.isArray(explain.queryPlanner.Plan);
}

/** FerretDB: the filter is pushed down and SQLite searches an index for it. */
export function judgeFerretDbExplain(explain: Document): PlanVerdict {
  const planner = isRecord(explain.queryPlanner) ? explain.queryPlanner : {};
  const rows = Array.isArray(planner.Plan) ? planner.Plan.map((row) => String(row).replace(/^.*detail=/, '')) : [];
  const pushdown = explain.filterPushdown === true;
  const searches = rows.some((r) => /^SEARCH .* USING (COVERING )?INDEX /.test(r));
  const scans = rows.some((r) => /^SCAN /.test(r));
  return { store: 'ferretdb', indexed: pushdown && searches && !scans, detail: `filterPushdown=${pushdown}; ${rows.join('; ')}` };
}

/** Every stage name of a MongoDB plan tree (classic and slot-based, sharded or not). */
function stages(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const n of node) stages(n, out);
  } else if (isRecord(node)) {
    if (typeof node.stage === 'string') out.push(node.stage);
    for (const key of ['inputStage', 'inputStages', 'queryPlan', 'winningPlan', 'shards']) stages(node[key], out);
  }
  return out;
}

/** MongoDB: the winning plan reads an index and never the whole collection. */
export function judgeMongoExplain(explain: Document): PlanVerdict {
  const planner = isRecord(explain.queryPlanner) ? explain.queryPlanner : {};
  const found = stages(planner.winningPlan);
  const indexed = found.some((s) => INDEX_STAGES.has(s)) && !found.includes('COLLSCAN');
  return { store: 'mongodb', indexed, detail: found.join(' <- ') || JSON.stringify(planner) };
}

export function judgeExplain(explain: Document): PlanVerdict {
  return isFerretDbExplain(explain) ? judgeFerretDbExplain(explain) : judgeMongoExplain(explain);
}

/**
 * Explains `op` with `filter` without running it. FerretDB's explain only reads a `find` filter
 * (internal/handler/common/explain.go), and its update and delete run exactly that query with that
 * filter (msg_update.go, msg_delete.go) and then write by `_id` (the SQL UPDATE/DELETE by `_id`,
 * which infra/ferretdb's `go test` shows SQLite serving from the same index): for FerretDB the
 * `find` plan is the plan of all three. MongoDB explains each command itself.
 */
export async function explainOp<T extends Document>(collection: Collection<T>, filter: Filter<T>, op: PlannedOp): Promise<Document> {
  const db = collection.db;
  const asFind = { explain: { find: collection.collectionName, filter }, verbosity: 'queryPlanner' };
  const found = await db.command(asFind);
  if (op === 'find' || isFerretDbExplain(found)) return found;
  const command =
    op === 'update'
      ? { update: collection.collectionName, updates: [{ q: filter, u: { $set: { explainedOnly: true } } }] }
      : { delete: collection.collectionName, deletes: [{ q: filter, limit: 1 }] };
  return db.command({ explain: command, verbosity: 'queryPlanner' });
}

/**
 * Asserts that `op` with `filter` on `collection` is answered through an index (see PlanVerdict).
 *
 * On FerretDB it re-checks for up to `withinMs` (default 2,000 ms) before failing: the index is
 * created inside FerretDB's own CREATE TABLE (so it exists when the command that created the
 * collection returns), but SQLite's EXPLAIN QUERY PLAN does not check the schema version, so a
 * pooled connection that has run nothing since can still describe the table as unindexed; a read
 * by `_id` before each re-check refreshes the connection FerretDB hands out next.
 */
export async function expectIndexed<T extends Document>(
  collection: Collection<T>,
  filter: Filter<T>,
  op: PlannedOp = 'find',
  { withinMs = 2_000 }: { withinMs?: number } = {},
): Promise<PlanVerdict> {
  const until = Date.now() + withinMs;
  for (;;) {
    const verdict = judgeExplain(await explainOp(collection, filter, op));
    if (verdict.indexed) return verdict;
    if (verdict.store !== 'ferretdb' || Date.now() >= until) {
      throw new Error(
        `${op} ${JSON.stringify(filter)} on ${collection.dbName}.${collection.collectionName} is not index-served on ${verdict.store}: ${verdict.detail}`,
      );
    }
    await collection.findOne({ _id: '\u0000query-plan-probe' } as Filter<T>);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
