import type { Collection, Db } from 'mongodb';

export const USAGE_LIMIT_CLAIMS = 'usage_limit_claims';

interface UsageLimitClaimDocument {
  /** `<tenantId>:<keyId>:<slot>`: the unique index decides which process owns the slot. */
  readonly _id: string;
  readonly tenantId: string;
  readonly keyId: string;
  readonly slot: number;
  readonly at: Date;
}

/** The key a key's Usage Limits count belongs to. */
export interface UsageLimitKey {
  readonly tenantId: string;
  readonly keyId: string;
}

const DUPLICATE_KEY = 11000;

/**
 * Slots of a key's Usage Limits, each owned by the one process whose insert of `<tenantId>:<keyId>:<slot>`
 * succeeded (UsageAllowance in libs/keys decides what a slot holds). A unique insert, never a
 * conditional update or an `$inc`: FerretDB does not make those atomic across connections
 * (INFRA-NOTES), an insert of an existing `_id` fails on MongoDB and FerretDB alike.
 */
export class UsageLimitClaims {
  readonly collection: Collection<UsageLimitClaimDocument>;

  constructor(db: Db) {
    this.collection = db.collection<UsageLimitClaimDocument>(USAGE_LIMIT_CLAIMS);
  }

  /** True when this call took the slot; false when another process (or an earlier life of this one) holds it. */
  async claim(key: UsageLimitKey, slot: number): Promise<boolean> {
    try {
      await this.collection.insertOne(
        { _id: `${key.tenantId}:${key.keyId}:${slot}`, tenantId: key.tenantId, keyId: key.keyId, slot, at: new Date() },
        { writeConcern: { w: 'majority' } },
      );
      return true;
    } catch (err: unknown) {
      if ((err as { code?: unknown }).code === DUPLICATE_KEY) return false;
      throw err;
    }
  }
}
