import { Injectable } from '@nestjs/common';
import { UsageLimitClaims } from '@keyward/crypto';
import { usageLimitCharge, type CryptoOperation, type KeyState } from '@keyward/domain';
import { MongoConnection } from '@keyward/platform';
import { usageLimitExhaustedError } from './errors';
import { UsageAllowances, UsageLimitReached } from './usage-allowance';

/** Most keys whose claimed slots a process keeps; beyond it the oldest key's rest is forfeited. */
const TRACKED_KEYS = 100_000;

/**
 * KMIP Usage Limits, counted across every kmip and key-api process and restart: the domain says what
 * a use costs (usageLimitCharge), UsageAllowances spends it from slots this process claimed with a
 * unique insert in `usage_limit_claims` (never more than the total in all, possibly a little less).
 * Keys without Usage Limits cost nothing and touch no store.
 */
@Injectable()
export class UsageLimitsService {
  private readonly allowances = new UsageAllowances(TRACKED_KEYS);
  private readonly claims: UsageLimitClaims;

  constructor(mongo: MongoConnection) {
    this.claims = new UsageLimitClaims(mongo.db);
  }

  /** Spends what `operation` on `dataBytes` bytes costs `key`, or throws KeyUseError usage-limit-exhausted. */
  async spend(tenantId: string, key: KeyState, operation: CryptoOperation, dataBytes: number): Promise<void> {
    const units = usageLimitCharge(key, operation, dataBytes);
    const limits = key.usageLimits;
    if (units === 0 || limits === undefined) return;
    const ref = { tenantId, keyId: key.keyId };
    try {
      await this.allowances.spend(`${tenantId}:${key.keyId}`, limits, units, (slot) => this.claims.claim(ref, slot));
    } catch (err: unknown) {
      if (err instanceof UsageLimitReached) throw usageLimitExhaustedError(key.keyId, limits.total, limits.unit);
      throw err;
    }
  }
}
