import type { Collection, Db } from 'mongodb';
import type { MaterialRef } from '../hierarchy/key-hierarchy';

export const ENCRYPTION_COUNTS = 'encryption_counts';
export const ENCRYPTION_RANGES = 'encryption_ranges';

interface EncryptionCountDocument {
  readonly _id: string;
  readonly tenantId: string;
  readonly keyId: string;
  readonly version: number;
  /**
   * Where the search for the version's next free range starts: the end of some reserved range (a
   * lower bound of the total reserved, never above it), raised with `$max` after each reservation.
   * A count from before reservations were ranges (an atomic `$inc`) is where the first range starts.
   */
  readonly reserved: number;
}

/** One reserved range of encryption numbers, [start, end): `_id` = `<count id>@<start>`. */
interface EncryptionRangeDocument {
  readonly _id: string;
  readonly end: number;
}

/** The id of one key version's counter (also the EncryptionBudget id). */
export const encryptionCountId = (ref: MaterialRef): string => `${ref.tenantId}:${ref.keyId}:${ref.version}`;

const rangeId = (countId: string, start: number): string => `${countId}@${start}`;

/** Most ranges one reservation walks past before it gives up (others reserving the same version all the while). */
const MAX_STEPS = 10_000;

/**
 * Per key version, how many AES-GCM encryptions the key-api and kmip instances have reserved (see
 * EncryptionBudget), once per reserved block, never per request.
 *
 * Each reservation is a range of encryption numbers that starts where the previous one ends,
 * decided by a unique insert of its start: of concurrent reservers, one inserts `<version>@<start>`
 * and the others move on to its end. Unique inserts are atomic on MongoDB and on the embedded
 * store alike; an `$inc` is not atomic on FerretDB (its issue 3040: 800 concurrent `$inc` upserts
 * from 16 clients kept 33 of them), and a lost increment would hand the same range to two
 * instances, so the version could exceed its budget. The ranges form one chain from 0 (or from a
 * count kept by an `$inc` before), so their total is exactly what was reserved. The counter
 * document only says where to start looking; a lost raise of it costs a few more reads, never a
 * range given twice.
 */
export class EncryptionCounts {
  readonly collection: Collection<EncryptionCountDocument>;
  readonly ranges: Collection<EncryptionRangeDocument>;

  constructor(db: Db) {
    this.collection = db.collection<EncryptionCountDocument>(ENCRYPTION_COUNTS);
    this.ranges = db.collection<EncryptionRangeDocument>(ENCRYPTION_RANGES);
  }

  /** Reserves the next `count` encryptions of the version; answers the new total (the end of the range reserved). */
  async reserve(ref: MaterialRef, count: number): Promise<number> {
    if (!(Number.isSafeInteger(count) && count >= 1)) throw new RangeError(`cannot reserve ${count} encryptions`);
    const id = encryptionCountId(ref);
    let start = await this.hint(id);
    for (let step = 0; step < MAX_STEPS; step++) {
      const end = start + count;
      try {
        await this.ranges.insertOne({ _id: rangeId(id, start), end }, { writeConcern: { w: 'majority' } });
      } catch (err: unknown) {
        if (!isDuplicateKey(err)) throw err;
        // Someone else reserved the range from `start`: the next one starts where it ends.
        start = await this.endOf(id, start);
        continue;
      }
      await this.raiseHint(ref, end);
      return end;
    }
    throw new Error(`no free encryption range of ${id} after ${MAX_STEPS} tries`);
  }

  /** The total reserved so far (the end of the last range). */
  async reserved(ref: MaterialRef): Promise<number> {
    const id = encryptionCountId(ref);
    let total = await this.hint(id);
    for (;;) {
      const range = await this.ranges.findOne({ _id: rangeId(id, total) });
      if (range === null) return total;
      total = range.end;
    }
  }

  private async hint(id: string): Promise<number> {
    return (await this.collection.findOne({ _id: id }))?.reserved ?? 0;
  }

  private async endOf(id: string, start: number): Promise<number> {
    const range = await this.ranges.findOne({ _id: rangeId(id, start) });
    if (range === null) throw new Error(`the encryption range ${rangeId(id, start)} was refused as a duplicate but cannot be read`);
    return range.end;
  }

  /**
   * Best effort, once the range is reserved: a lost raise (FerretDB) or a refused one (concurrent
   * upserts of a new version; FerretDB may answer those with an internal error rather than E11000)
   * leaves a lower hint, which is still a range's end: the next reservation reads a few more ranges.
   */
  private async raiseHint(ref: MaterialRef, end: number): Promise<void> {
    await this.collection
      .updateOne(
        { _id: encryptionCountId(ref) },
        { $max: { reserved: end }, $setOnInsert: { tenantId: ref.tenantId, keyId: ref.keyId, version: ref.version } },
        { upsert: true },
      )
      .catch(() => undefined);
  }
}

function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}
