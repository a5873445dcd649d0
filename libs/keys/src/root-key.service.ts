import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import type { KeywardConfig } from '@keyward/config';
import { deriveCredentialMacKey } from '@keyward/auth';
import { decodeShare, describeShare, Keystore, keyCheckValue, loadRootKey, ShareCollector, type ShareProgress } from '@keyward/crypto';
import { deriveSnapshotMacKey } from '@keyward/event-log';
import { KEYWARD_CONFIG, retryUntilDone } from '@keyward/platform';
import { alreadyUnsealedError, KeyUseError, sealedError } from './errors';

export interface SealStatus {
  readonly sealed: boolean;
  readonly reason?: string;
  /** Check value of the root key the keystore was built with (identifies it, reveals nothing). */
  readonly rootKcv?: string;
  /** Unsealing with Shamir shares under way (sealed only): counts and identifiers, never share data. */
  readonly progress?: ShareProgress;
}

/** The answer to one submitted share. */
export interface ShareSubmissionStatus extends SealStatus {
  /** The share had been submitted before: it counted once. */
  readonly duplicate?: boolean;
}

/** Shares submitted for unsealing are discarded this long after the first one came. */
export const UNSEAL_SHARES_TTL_MS = 10 * 60_000;

/**
 * Holds the root key, or knows why it does not (sealed). The first use checks it against the
 * check value recorded in the keystore, so a wrong root key seals instead of making new KEKs.
 */
@Injectable()
export class RootKeyService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('root-key');
  private key: Buffer | null = null;
  private verified = false;
  private reason = 'starting';
  private rootKcv: string | undefined;
  /** Derived from the verified root key on first use (credential integrity); zeroed with it. */
  private macKey: Buffer | null = null;
  /** Derived likewise (tenant-log snapshot integrity); zeroed with it. */
  private snapshotKey: Buffer | null = null;
  /** Shares submitted towards unsealing: in memory only, zeroed once used, on reset and on expiry. */
  private readonly shares = new ShareCollector(UNSEAL_SHARES_TTL_MS, (discarded) =>
    this.logger.warn(`unseal progress expired: ${discarded} share(s) discarded after ${UNSEAL_SHARES_TTL_MS / 60_000} minutes`),
  );

  constructor(
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
    private readonly keystore: Keystore,
  ) {
    const loaded = loadRootKey(config.rootKey);
    if (loaded.key === null) {
      this.reason = loaded.reason;
      this.logger.warn(`starting SEALED: ${loaded.reason}. Crypto routes answer 503 until the service is unsealed.`);
      return;
    }
    this.key = loaded.key;
    if (config.rootKey.kind === 'generate') {
      const banner = '*'.repeat(100);
      this.logger.warn(
        `${banner}\n  DEVELOPMENT ROOT KEY ${loaded.generated ? 'GENERATED' : 'IN USE'}: ${config.rootKey.path}\n` +
          `  Anyone who can read that file can unwrap every key. Use ROOT_KEY_FILE (or Shamir unsealing) in production.\n${banner}`,
      );
    }
  }

  onApplicationBootstrap(): void {
    if (this.key)
      void retryUntilDone(
        () => this.verify(),
        (why) => this.logger.warn(`cannot check the root key yet (${why})`),
      );
  }

  onModuleDestroy(): void {
    this.shares.reset();
    this.key?.fill(0);
    this.key = null;
    this.macKey?.fill(0);
    this.macKey = null;
    this.snapshotKey?.fill(0);
    this.snapshotKey = null;
  }

  status(): SealStatus {
    if (this.key === null) {
      const progress = this.shares.progress();
      return progress === null ? { sealed: true, reason: this.reason } : { sealed: true, reason: this.reason, progress };
    }
    return this.rootKcv === undefined ? { sealed: false } : { sealed: false, rootKcv: this.rootKcv };
  }

  /** The root key, checked against the keystore; KeyUseError sealed otherwise. */
  async rootKey(): Promise<Buffer> {
    if (this.key === null) throw sealedError(this.reason);
    if (!this.verified) await this.verify();
    // verify() seals (sets key to null) when the key does not match the keystore.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.key === null) throw sealedError(this.reason);
    return this.key;
  }

  /** Unseals with a candidate root key; refuses one that does not match the keystore. */
  async unseal(candidate: Buffer): Promise<SealStatus> {
    if (this.key !== null) {
      candidate.fill(0);
      throw alreadyUnsealedError();
    }
    const kcv = keyCheckValue(candidate);
    const inForce = await this.keystore.claimRoot(kcv);
    if (inForce !== kcv) {
      candidate.fill(0);
      throw new KeyUseError('root-key-mismatch', 'this is not the root key the keystore was built with', { expectedKcv: inForce });
    }
    // A concurrent unseal may have won while the keystore answered.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.key !== null) {
      candidate.fill(0);
      throw alreadyUnsealedError();
    }
    this.key = candidate;
    this.verified = true;
    this.rootKcv = kcv;
    this.shares.reset();
    this.logger.log('unsealed');
    return this.status();
  }

  /**
   * Takes one custodian's Shamir share. Shares are held in memory only; at the threshold they
   * are combined, zeroed, and the result unseals like `unseal()` (checked against the keystore).
   * A share of another root key or set, a mistyped or altered one, is refused precisely (a
   * ShareError, or KeyUseError root-key-mismatch).
   */
  async submitShare(text: string): Promise<ShareSubmissionStatus> {
    if (this.key !== null) throw alreadyUnsealedError();
    const share = decodeShare(text);
    try {
      // Shares of another root key than the keystore's are refused at once, not after M custodians came.
      const inForce = await this.keystore.rootCheck();
      if (inForce !== null && inForce !== share.kcv) {
        throw new KeyUseError(
          'root-key-mismatch',
          `this share is of root key ${share.kcv}, but the keystore was built with root key ${inForce}`,
          { expectedKcv: inForce, shareKcv: share.kcv },
        );
      }
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (this.key !== null) throw alreadyUnsealedError();
      const submission = await this.shares.submit(share);
      if (!submission.complete) {
        const { submitted, threshold } = submission.progress;
        this.logger.log(
          `unseal share ${share.index} ${submission.duplicate ? 'submitted again (counted once)' : 'accepted'}: ${submitted} of ${threshold} (${describeShare(share)})`,
        );
        return { ...this.status(), duplicate: submission.duplicate };
      }
      this.logger.log(`unseal threshold reached with ${submission.progress.submitted} shares (${describeShare(share)})`);
      const status = await this.unseal(submission.rootKey).catch((err: unknown) => {
        submission.rootKey.fill(0); // unseal() keeps the key only when it succeeds
        throw err;
      });
      return { ...status, progress: submission.progress };
    } finally {
      share.data.fill(0);
    }
  }

  /** Discards the shares submitted so far. */
  resetShares(): SealStatus {
    const discarded = this.shares.reset();
    if (discarded > 0) this.logger.warn(`unseal progress reset: ${discarded} share(s) discarded`);
    return this.status();
  }

  /**
   * The key credential documents are bound with (HKDF of the root key), once the root key is in
   * memory and checked against the keystore (checked first if that is still to do: a promise then);
   * undefined while sealed.
   */
  credentialMacKey(): Buffer | undefined | Promise<Buffer | undefined> {
    if (this.key === null) return undefined;
    if (!this.verified) {
      return this.verify().then(
        () => this.derivedMacKey(),
        () => undefined,
      );
    }
    return this.derivedMacKey();
  }

  /** The credential MAC key; KeyUseError sealed otherwise. */
  async requireCredentialMacKey(): Promise<Buffer> {
    await this.rootKey();
    const key = this.derivedMacKey();
    if (key === undefined) throw sealedError(this.reason);
    return key;
  }

  /** The tenant-snapshot MAC key, or undefined while sealed (snapshots are then neither read nor written). */
  snapshotMacKey(): Buffer | undefined {
    if (this.key === null || !this.verified) return undefined;
    this.snapshotKey ??= deriveSnapshotMacKey(this.key);
    return this.snapshotKey;
  }

  private derivedMacKey(): Buffer | undefined {
    if (this.key === null || !this.verified) return undefined;
    this.macKey ??= deriveCredentialMacKey(this.key);
    return this.macKey;
  }

  /** Readiness: a sealed instance cannot serve keys, so it is not ready. */
  health(): HealthIndicatorResult {
    const status = this.status();
    return { keystore: status.sealed ? { status: 'down', sealed: true, reason: status.reason } : { status: 'up', sealed: false } };
  }

  private async verify(): Promise<void> {
    if (this.key === null || this.verified) return;
    const kcv = keyCheckValue(this.key);
    const inForce = await this.keystore.claimRoot(kcv);
    if (inForce !== kcv) {
      this.key.fill(0);
      this.key = null;
      this.reason = `the configured root key (check value ${kcv}) is not the one the keystore was built with (${inForce})`;
      this.logger.error(`SEALED: ${this.reason}`);
      return;
    }
    this.verified = true;
    this.rootKcv = kcv;
  }
}
