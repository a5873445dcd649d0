/**
 * Most update (or replace) statements one `update` command may carry. FerretDB 1.24's SQLite
 * backend keeps each statement's result rows open until the whole command ends: a command with
 * as many statements as its per-database connection pool (100) leaves the next statement, and the
 * metadata registry, waiting for a connection forever, and the store stops answering anyone (seen
 * in a goroutine dump: 100 open `sql.Rows`, all from one `update`). MongoDB has no such limit; a
 * smaller batch only costs a few more round trips there.
 */
export const MAX_UPDATES_PER_COMMAND = 50;

/** `items` in consecutive slices of at most `size` (MAX_UPDATES_PER_COMMAND by default). */
export function inBatches<T>(items: readonly T[], size = MAX_UPDATES_PER_COMMAND): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, not ${size}`);
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}
