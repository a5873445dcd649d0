import type { Collection, Db } from 'mongodb';
import type { MaterialRef } from '../hierarchy/key-hierarchy';

export const ENCRYPTION_COUNTS = 'encryption_counts';

interface EncryptionCountDocument {
  readonly _id: string;
  readonly tenantId: string;
  readonly keyId: string;
  readonly version: number;
  /** Encryptions reserved so far by all instances together (an upper bound of those made). */
  readonly reserved: number;
}

/** The id of one key version's counter (also the EncryptionBudget id). */
export const encryptionCountId = (ref: MaterialRef): string => `${ref.tenantId}:${ref.keyId}:${ref.version}`;

/**
 * Per key version, how many AES-GCM encryptions the key-api and kmip instances have reserved
 * (see EncryptionBudget): one document per version that has encrypted, updated by an atomic
 * `$inc` once per reserved block, never per request.
 */
export class EncryptionCounts {
  readonly collection: Collection<EncryptionCountDocument>;

  constructor(db: Db) {
    this.collection = db.collection<EncryptionCountDocument>(ENCRYPTION_COUNTS);
  }

  /** Adds `count` to the version's reserved total; answers the new total. */
  async reserve(ref: MaterialRef, count: number): Promise<number> {
    const doc = await this.collection.findOneAndUpdate(
      { _id: encryptionCountId(ref) },
      { $inc: { reserved: count }, $setOnInsert: { tenantId: ref.tenantId, keyId: ref.keyId, version: ref.version } },
      { upsert: true, returnDocument: 'after', writeConcern: { w: 'majority' } },
    );
    if (doc === null) throw new Error(`no encryption count for ${encryptionCountId(ref)} after an upsert`);
    return doc.reserved;
  }

  async reserved(ref: MaterialRef): Promise<number> {
    return (await this.collection.findOne({ _id: encryptionCountId(ref) }))?.reserved ?? 0;
  }
}
