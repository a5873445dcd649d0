import { MongoBulkWriteError, MongoServerError, type Collection, type Document, type OptionalUnlessRequiredId } from 'mongodb';
import { inBatches } from './update-batches';

/** A write refused because a document with its unique key (`_id`, or a unique index) exists. */
export const isDuplicateKey = (err: unknown): boolean =>
  (err instanceof MongoServerError || err instanceof MongoBulkWriteError) && err.code === 11000;

/** Inserts `doc` unless one with its `_id` exists already (an earlier attempt, or another writer's: one is enough). */
export async function insertIgnoringDuplicate<T extends Document & { _id: string }>(
  collection: Collection<T>,
  doc: OptionalUnlessRequiredId<T>,
): Promise<void> {
  try {
    await collection.insertOne(doc);
  } catch (err: unknown) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/**
 * Inserts `docs`, `perCommand` at a time (unordered), keeping documents that exist already as they
 * are; answers how many it inserted.
 */
export async function insertAllIgnoringDuplicates<T extends Document & { _id: string }>(
  collection: Collection<T>,
  docs: readonly OptionalUnlessRequiredId<T>[],
  perCommand: number,
): Promise<number> {
  let inserted = 0;
  for (const batch of inBatches(docs, perCommand)) {
    try {
      inserted += (await collection.insertMany(batch, { ordered: false })).insertedCount;
    } catch (err: unknown) {
      if (!(err instanceof MongoBulkWriteError) || !isDuplicateKey(err)) throw err;
      inserted += err.insertedCount;
    }
  }
  return inserted;
}
