import { Binary, MongoServerError, type Collection, type Db, type Filter } from 'mongodb';
import type { MaterialRef } from '../hierarchy/key-hierarchy';

export const KEYSTORE = 'keystore';

/**
 * The only place key material lives, and only wrapped: tenant KEKs under the root key, key-version
 * material under the tenant KEK. Unlike the commit log it is mutable, so that destruction is real.
 */
export type KeystoreDocument =
  | { readonly _id: 'root'; readonly kind: 'root'; readonly kcv: string; readonly createdAt: Date }
  | {
      readonly _id: string;
      readonly kind: 'kek';
      readonly tenantId: string;
      readonly rootKcv: string;
      readonly sealed: Binary;
      readonly createdAt: Date;
    }
  | {
      readonly _id: string;
      readonly kind: 'material';
      readonly tenantId: string;
      readonly keyId: string;
      readonly version: number;
      readonly kcv: string;
      readonly sealed: Binary;
      readonly createdAt: Date;
    };

type KekDocument = Extract<KeystoreDocument, { kind: 'kek' }>;
type MaterialDocument = Extract<KeystoreDocument, { kind: 'material' }>;

export const kekId = (tenantId: string): string => `kek:${tenantId}`;
/** Material ids include the check value: two writers racing for one version never collide, and only the committed one is ever read. */
export const materialId = (ref: MaterialRef, kcv: string): string => `mat:${ref.tenantId}:${ref.keyId}:${ref.version}:${kcv}`;

const isDuplicate = (err: unknown): boolean => err instanceof MongoServerError && err.code === 11000;
const bytes = (binary: Binary): Buffer => Buffer.from(binary.buffer);

const SHRED_DELETES_PER_COMMAND = 10;

export class Keystore {
  readonly collection: Collection<KeystoreDocument>;

  constructor(db: Db) {
    this.collection = db.collection<KeystoreDocument>(KEYSTORE);
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ tenantId: 1, keyId: 1, version: 1 }, { name: 'tenant_key_version' }, undefined);
  }

  /** The check value of the root key this keystore was built with, if any. */
  async rootCheck(): Promise<string | null> {
    const doc = await this.collection.findOne({ _id: 'root' });
    return doc?.kind === 'root' ? doc.kcv : null;
  }

  /** Records the root key's check value on first use; returns the one in force (which may be another's). */
  async claimRoot(kcv: string): Promise<string> {
    try {
      await this.collection.insertOne({ _id: 'root', kind: 'root', kcv, createdAt: new Date() }, { writeConcern: { w: 'majority' } });
      return kcv;
    } catch (err: unknown) {
      if (!isDuplicate(err)) throw err;
      return (await this.rootCheck()) ?? kcv;
    }
  }

  async kek(tenantId: string): Promise<{ sealed: Buffer; rootKcv: string } | null> {
    const doc = (await this.collection.findOne({ _id: kekId(tenantId) })) as KekDocument | null;
    return doc ? { sealed: bytes(doc.sealed), rootKcv: doc.rootKcv } : null;
  }

  /** Stores a wrapped KEK unless the tenant has one already; returns the stored one either way. */
  async putKekIfAbsent(tenantId: string, sealed: Buffer, rootKcv: string): Promise<{ sealed: Buffer; rootKcv: string }> {
    try {
      const doc: KekDocument = { _id: kekId(tenantId), kind: 'kek', tenantId, rootKcv, sealed: new Binary(sealed), createdAt: new Date() };
      await this.collection.insertOne(doc, { writeConcern: { w: 'majority' } });
      return { sealed, rootKcv };
    } catch (err: unknown) {
      if (!isDuplicate(err)) throw err;
      const existing = await this.kek(tenantId);
      if (!existing) throw err;
      return existing;
    }
  }

  async material(ref: MaterialRef, kcv: string): Promise<Buffer | null> {
    const doc = (await this.collection.findOne({ _id: materialId(ref, kcv) })) as MaterialDocument | null;
    return doc ? bytes(doc.sealed) : null;
  }

  /** Stores wrapped material (idempotent for the same id). */
  async putMaterial(ref: MaterialRef, kcv: string, sealed: Buffer): Promise<void> {
    const doc: MaterialDocument = {
      _id: materialId(ref, kcv),
      kind: 'material',
      tenantId: ref.tenantId,
      keyId: ref.keyId,
      version: ref.version,
      kcv,
      sealed: new Binary(sealed),
      createdAt: new Date(),
    };
    try {
      await this.collection.insertOne(doc, { writeConcern: { w: 'majority' } });
    } catch (err: unknown) {
      if (!isDuplicate(err)) throw err;
    }
  }

  /**
   * Crypto-shredding by `_id`: deletes the wrapped material of these committed versions (the check
   * values come from the tenant's log). Each delete is a point operation, at most 50 to a command
   * (FerretDB), so the cost is the key's, not the keystore's. Material written by a writer that lost
   * its race for the version (never committed, never used) is left to the tenant's offboarding.
   */
  async shredVersions(
    tenantId: string,
    keyId: string,
    versions: readonly { readonly version: number; readonly kcv: string }[],
  ): Promise<number> {
    let deleted = 0;
    const ids = versions.map((v) => materialId({ tenantId, keyId, version: v.version }, v.kcv));
    // Few statements a command: FerretDB's SQLite backend holds a connection per statement until
    // the command ends (see MAX_UPDATES_PER_COMMAND in @keyward/event-log).
    for (let i = 0; i < ids.length; i += SHRED_DELETES_PER_COMMAND) {
      const batch = ids.slice(i, i + SHRED_DELETES_PER_COMMAND);
      const result = await this.collection.bulkWrite(
        batch.map((_id) => ({ deleteOne: { filter: { _id } } })),
        { ordered: false, writeConcern: { w: 'majority' } },
      );
      deleted += result.deletedCount;
    }
    return deleted;
  }

  /** Crypto-shredding: deletes the wrapped material of these versions (all versions when omitted). */
  async shredKey(tenantId: string, keyId: string, versions?: readonly number[]): Promise<number> {
    const filter: Filter<KeystoreDocument> = versions
      ? { kind: 'material', tenantId, keyId, version: { $in: [...versions] } }
      : { kind: 'material', tenantId, keyId };
    const result = await this.collection.deleteMany(filter, { writeConcern: { w: 'majority' } });
    return result.deletedCount;
  }

  /**
   * Crypto-shredding of a whole tenant: its KEK first, by `_id` (from then on none of its material
   * can be unwrapped), then every piece of its material. The second delete is a query by tenantId
   * (an index on MongoDB, a scan of the keystore on FerretDB): offboarding happens once in a
   * tenant's life, and it also removes material no commit names (a writer's lost race).
   */
  async shredTenant(tenantId: string): Promise<number> {
    const kek = await this.collection.deleteOne({ _id: kekId(tenantId) }, { writeConcern: { w: 'majority' } });
    const result = await this.collection.deleteMany({ tenantId }, { writeConcern: { w: 'majority' } });
    return kek.deletedCount + result.deletedCount;
  }
}
