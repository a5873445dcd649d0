import type { Db } from 'mongodb';

/**
 * How the projector's guarded writes reach the store (a view document is replaced only if it
 * still has the `appliedSeq` the projector last saw; the checkpoint only if it still has the
 * `lastSeq`).
 *
 * - `filter`: one conditional write, `{_id, appliedSeq}` in the filter: atomic on MongoDB.
 * - `check-by-id`: read the document by `_id`, compare, then write by `_id`. For FerretDB: its
 *   SQLite backend pushes a filter down to SQLite only when it is `_id` alone, so the guarded
 *   filter scanned the whole collection on every write (100–200 ms a key at 300–600 key views),
 *   and it checks a filter outside the write's transaction anyway (conditional writes are not
 *   atomic there, FerretDB#3040): the guard means the same both ways on FerretDB, at the cost of
 *   two `_id` lookups instead of a scan.
 */
export type GuardedWrites = 'filter' | 'check-by-id';

/** `check-by-id` on FerretDB (its buildInfo says so), `filter` on MongoDB. */
export async function guardedWritesFor(db: Db): Promise<GuardedWrites> {
  const info = await db.admin().command({ buildInfo: 1 });
  return typeof info.ferretdbVersion === 'string' ? 'check-by-id' : 'filter';
}
