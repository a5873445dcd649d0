import type { Collection, Document, Filter } from 'mongodb';

/** Point reads in flight at once (the pattern CommitStore.getMany uses). */
export const POINT_READS_IN_FLIGHT = 8;

/**
 * The documents with these `_id`s, in the order of `ids` (null where none), read one `_id` at a
 * time with a few in flight: on FerretDB (SQLite) only a filter on `_id` alone is served by the
 * store's index; a `$in` decodes every document of the collection.
 */
export async function readByIds<T extends Document & { _id: string }>(
  collection: Pick<Collection<T>, 'findOne'>,
  ids: readonly string[],
  inFlight = POINT_READS_IN_FLIGHT,
): Promise<(T | null)[]> {
  const out: (T | null)[] = new Array<T | null>(ids.length).fill(null);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < ids.length; i = next++) {
      out[i] = (await collection.findOne({ _id: ids[i] } as Filter<T>)) as T | null;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, ids.length) }, worker));
  return out;
}
