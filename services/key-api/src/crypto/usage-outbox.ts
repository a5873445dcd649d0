import { MongoBulkWriteError, type Collection, type Db, type WriteError } from 'mongodb';

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

/**
 * The durable side of the usage audit. Every query but an insert is a collection scan on FerretDB:
 * the recorder reads (bounded, oldest first) only while it knows of batches here, and once a
 * minute otherwise.
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

  /** The oldest `limit` batches. */
  oldest(limit: number): Promise<OutboxBatch<R>[]> {
    return this.batches.find({}).sort({ _id: 1 }).limit(limit).toArray();
  }

  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.batches.deleteMany({ _id: { $in: [...ids] } });
  }
}
