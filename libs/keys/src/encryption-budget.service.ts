import { Inject, Injectable, Logger } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import { EncryptionBudget, EncryptionBudgetExhausted, EncryptionCounts, encryptionCountId, type MaterialRef } from '@keyward/crypto';
import { KEYWARD_CONFIG, MongoConnection } from '@keyward/platform';
import { versionExhaustedError } from './errors';

/** Most key versions whose reserved block an instance keeps; beyond it the oldest block is forfeited. */
const TRACKED_VERSIONS = 100_000;

/**
 * The AES-GCM random-IV limit per key version (GCM_VERSION_ENCRYPTION_LIMIT), counted across all
 * key-api and kmip instances: EncryptionBudget reserves blocks of GCM_RESERVATION_BLOCK
 * encryptions with one unique insert of the range (EncryptionCounts), and spends them
 * in memory, so the hot path writes to the store once per block.
 */
@Injectable()
export class EncryptionBudgetService {
  private readonly logger = new Logger('encryption-budget');
  private readonly budget: EncryptionBudget;
  private readonly counts: EncryptionCounts;
  private readonly limit: number;
  /** Versions already reported exhausted in the log (once each, not once per refusal). */
  private readonly reported = new Set<string>();

  constructor(@Inject(KEYWARD_CONFIG) config: KeywardConfig, mongo: MongoConnection) {
    this.limit = config.crypto.gcm.versionLimit;
    this.budget = new EncryptionBudget({
      limit: this.limit,
      block: Math.min(config.crypto.gcm.reservationBlock, this.limit),
      maxEntries: TRACKED_VERSIONS,
    });
    this.counts = new EncryptionCounts(mongo.db);
  }

  /** Spends one encryption with this key version, or throws KeyUseError key-version-exhausted. */
  async spend(ref: MaterialRef): Promise<void> {
    const id = encryptionCountId(ref);
    try {
      await this.budget.take(id, (count) => this.counts.reserve(ref, count));
    } catch (err: unknown) {
      if (!(err instanceof EncryptionBudgetExhausted)) throw err;
      if (this.reported.size < TRACKED_VERSIONS && !this.reported.has(id)) {
        this.reported.add(id);
        this.logger.warn(`version ${ref.version} of key ${ref.tenantId}/${ref.keyId} has used its ${this.limit} encryptions: rotate it`);
      }
      throw versionExhaustedError(ref, this.limit);
    }
  }
}
