import { insertAllIgnoringDuplicates, insertIgnoringDuplicate } from '../commit/duplicate-inserts';
import { DUE_COMPLETE, dueViewOf, PENDING_DATES_FILTER, type DueView } from './due-dates';
import type { ViewCollections } from './views';

const INSERTS_PER_COMMAND = 500;

/** Whether view_due holds every key with a pending date (backfilled, or written by a rebuild). */
export async function dueComplete(views: ViewCollections): Promise<boolean> {
  return (await views.due.findOne({ _id: DUE_COMPLETE })) !== null;
}

/** Records that view_due is complete (after a backfill or a rebuild that wrote it from nothing). */
export async function markDueComplete(views: ViewCollections): Promise<void> {
  await insertIgnoringDuplicate(views.due, { _id: DUE_COMPLETE, at: new Date().toISOString() });
}

/**
 * Gives views projected before view_due existed their documents, once per store: one scan of the
 * key views (every key view on FerretDB, an index-less query on MongoDB), then the marker. Inserts
 * only: a document the live projector wrote meanwhile is newer and stays; one it deleted meanwhile
 * may come back from the older view read here, which costs the scheduler one refused decision.
 * Answers how many documents it inserted (null: done before).
 */
export async function backfillDue(views: ViewCollections): Promise<number | null> {
  if (await dueComplete(views)) return null;
  const due: DueView[] = [];
  for await (const key of views.keys.find(PENDING_DATES_FILTER as object, { batchSize: 1_000 })) {
    const doc = dueViewOf(key);
    if (doc !== null) due.push(doc);
  }
  const inserted = await insertAllIgnoringDuplicates(views.due, due, INSERTS_PER_COMMAND);
  await markDueComplete(views);
  return inserted;
}
