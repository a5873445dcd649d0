import { MongoBulkWriteError, type Collection, type Db, type WriteError } from 'mongodb';
import { inBatches, writeInBatches } from '@keyward/event-log';

/** The collection holding usage records Kafka could not take yet. */
export const USAGE_OUTBOX = 'usage_outbox';

/**
 * One tenant-batch of usage records waiting for Kafka: written once (insert only), read in `_id`
 * order and deleted once on the usage topic. `_id` = `<instance>:<batch seq>`, where the instance
 * id starts with its start time, so older instances' batches sort first and one instance's batches
 * keep the order it took them from memory in.
 */
export interface OutboxBatch<R> {
  readonly _id: string;
  readonly tenantId: string;
  readonly records: R[];
  readonly at: Date;
}

/** Point reads in flight at once. */
const READS_AT_ONCE = 8;

/**
 * The durable side of the usage audit. An instance reads and deletes its own batches by `_id`
 * (index-served on MongoDB and on the embedded store); only the once-a-minute sweep for batches
 * other (stopped or crashed) instances left reads the whole collection, a scan on FerretDB.
 */
export class UsageOutbox<R> {
  private readonly batches: Collection<OutboxBatch<R>>;

  constructor(db: Db) {
    this.batches = db.collection<OutboxBatch<R>>(USAGE_OUTBOX);
  }

  /** Inserts batches; a batch already there (a retried insert) counts as inserted. */
  async insert(batches: readonly OutboxBatch<R>[]): Promise<void> {
    if (batches.length === 0) return;
    try {
      await this.batches.insertMany([...batches], { ordered: false });
    } catch (err: unknown) {
      if (err instanceof MongoBulkWriteError) {
        const errors: readonly WriteError[] = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors as WriteError];
        if (errors.length > 0 && errors.every((e) => e.code === 11000)) return;
      }
      throw err;
    }
  }

  /** The ids of the oldest `limit` batches: one read of the whole collection on FerretDB, whatever `limit`. */
  async oldestIds(limit: number): Promise<string[]> {
    const docs = await this.batches
      .find({}, { projection: { _id: 1 } })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => d._id);
  }

  /** The batches with these ids that are still here, in the order of `ids`. */
  async byIds(ids: readonly string[]): Promise<OutboxBatch<R>[]> {
    const found: OutboxBatch<R>[] = [];
    for (const batch of inBatches(ids, READS_AT_ONCE)) {
      for (const doc of await Promise.all(batch.map((_id) => this.batches.findOne({ _id })))) if (doc) found.push(doc);
    }
    return found;
  }

  /** One delete by `_id` per batch (a `$in` is a collection scan on FerretDB). */
  async remove(ids: readonly string[]): Promise<void> {
    await writeInBatches(ids, (batch) =>
      this.batches.bulkWrite(
        batch.map((_id) => ({ deleteOne: { filter: { _id } } })),
        { ordered: false },
      ),
    );
  }
}
