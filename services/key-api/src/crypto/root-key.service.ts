import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import type { KeywardConfig } from '@keyward/config';
import { Keystore, keyCheckValue, loadRootKey } from '@keyward/crypto';
import { KEYWARD_CONFIG, ProblemError, retryUntilDone } from '@keyward/platform';
import { sealedProblem } from './crypto-problems';

export interface SealStatus {
  readonly sealed: boolean;
  readonly reason?: string;
  /** Check value of the root key the keystore was built with (identifies it, reveals nothing). */
  readonly rootKcv?: string;
}

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
    this.key?.fill(0);
    this.key = null;
  }

  status(): SealStatus {
    if (this.key === null) return { sealed: true, reason: this.reason };
    return this.rootKcv === undefined ? { sealed: false } : { sealed: false, rootKcv: this.rootKcv };
  }

  /** The root key, checked against the keystore; 503 sealed otherwise. */
  async rootKey(): Promise<Buffer> {
    if (this.key === null) throw sealedProblem(this.reason);
    if (!this.verified) await this.verify();
    // verify() seals (sets key to null) when the key does not match the keystore.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.key === null) throw sealedProblem(this.reason);
    return this.key;
  }

  /** Unseals with a candidate root key; refuses one that does not match the keystore. */
  async unseal(candidate: Buffer): Promise<SealStatus> {
    if (this.key !== null) {
      candidate.fill(0);
      throw new ProblemError(409, 'already-unsealed', 'Already unsealed', 'the key manager is already unsealed');
    }
    const kcv = keyCheckValue(candidate);
    const inForce = await this.keystore.claimRoot(kcv);
    if (inForce !== kcv) {
      candidate.fill(0);
      throw new ProblemError(422, 'root-key-mismatch', 'Wrong root key', 'this is not the root key the keystore was built with', {
        expectedKcv: inForce,
      });
    }
    this.key = candidate;
    this.verified = true;
    this.rootKcv = kcv;
    this.logger.log('unsealed');
    return this.status();
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
