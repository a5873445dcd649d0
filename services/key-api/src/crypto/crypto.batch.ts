import type { BatchItem } from '@keyward/keys';
import { ProblemError, toProblem, type ProblemDocument } from '@keyward/platform';
import { problemOf } from '../errors/problem.filter';
import { MAX_BATCH_ITEMS } from './crypto.schema';

/** One entry of batchResults: the item's answer, or the problem document that refused it alone. */
export type BatchResult<T> = T | { readonly error: ProblemDocument };

/** Refuses a batch of more than MAX_BATCH_ITEMS items as a whole (413), before anything is decided. */
export function requireBatchSize(items: number): void {
  if (items > MAX_BATCH_ITEMS) {
    throw new ProblemError(413, 'payload-too-large', 'Payload too large', `batchInput holds ${items} items; at most ${MAX_BATCH_ITEMS}`, {
      field: 'batchInput',
      limit: MAX_BATCH_ITEMS,
    });
  }
}

/**
 * Reads every item with `read` (decoding, size limits); an item that fails with a typed error (a
 * ProblemError, a KeyUseError) is refused alone, anything else fails the request.
 */
export function readItems<I, T>(items: readonly I[], read: (item: I) => T): BatchItem<T>[] {
  return items.map((item) => {
    try {
      return { ok: true, value: read(item) };
    } catch (err: unknown) {
      if (problemOf(err) instanceof ProblemError) return { ok: false, error: err as Error };
      throw err;
    }
  });
}

/** The inputs of the items that were read, in order, for the crypto service. */
export const readInputs = <T>(read: readonly BatchItem<T>[]): T[] => read.flatMap((r) => (r.ok ? [r.value] : []));

/**
 * batchResults in the order of the request: for each item read, the service's answer for it (in
 * the order of readInputs); for the others, the problem that refused them when they were read.
 */
export function batchResults<T>(read: readonly BatchItem<unknown>[], served: readonly BatchItem<T>[]): BatchResult<T>[] {
  let next = 0;
  return read.map((r) => {
    const item = r.ok ? served[next++] : r;
    if (item === undefined) throw new Error('unreachable: the crypto service answers every item it was given');
    return item.ok ? item.value : { error: toProblem(problemOf(item.error)).problem.toDocument() };
  });
}
