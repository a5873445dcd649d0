import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { MongoServerError } from 'mongodb';
import type { KeywardConfig } from '@keyward/config';
import { CredentialStore, newId } from '@keyward/auth';
import { PROVIDER_LOG } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { KEYWARD_CONFIG, MongoConnection, retryUntilDone } from '@keyward/platform';
import type { Origin } from '../commands/commands';
import { RootKeyService } from '@keyward/keys';
import { EnrollmentService } from '../enrollment/enrollment.service';

export const PROVIDER_KEY_FILE = 'provider-admin.key';

const SYSTEM: Origin = {
  principal: { principalId: 'system', tenantId: PROVIDER_LOG, role: 'provider-admin', credentialId: 'bootstrap' },
  requestId: 'bootstrap',
};

/**
 * First start: create the provider-admin principal and its API key, and write the key to the data
 * folder (mode 0600). Development and tests also print it once; production never prints or logs a
 * credential, only where the file is. Unsealed, the key is obtained through the principal's own
 * enrollment (recorded in the provider log); sealed, the credential cannot be bound by a MAC yet
 * and can only unseal (completing an unseal binds it). Later starts find the marker and do
 * nothing; a marker insert decides which instance does it when several start together.
 */
@Injectable()
export class ProviderAdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('bootstrap');

  constructor(
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
    private readonly mongo: MongoConnection,
    private readonly executor: CommandExecutor,
    private readonly credentials: CredentialStore,
    private readonly root: RootKeyService,
    private readonly enrollments: EnrollmentService,
  ) {}

  onApplicationBootstrap(): void {
    void this.run();
  }

  private run(): Promise<void> {
    return retryUntilDone(
      () => this.ensureProviderAdmin(),
      (reason) => this.logger.warn(`provider-admin bootstrap waiting for MongoDB (${reason})`),
    );
  }

  async ensureProviderAdmin(): Promise<void> {
    const system = this.mongo.db.collection<{ _id: string; at: string }>('system');
    try {
      await system.insertOne({ _id: 'provider-admin-bootstrap', at: new Date().toISOString() });
    } catch (err: unknown) {
      if (err instanceof MongoServerError && err.code === 11000) return; // done before
      throw err;
    }
    const principalId = newId('prn');
    await this.executor.execute(
      PROVIDER_LOG,
      { kind: 'principal.create', principalId, name: 'provider-admin', role: 'provider-admin' },
      { now: new Date(), actor: { principalId: 'system', role: 'provider-admin' }, correlationId: 'bootstrap' },
    );
    const apiKey = await this.firstKey(principalId);
    mkdirSync(this.config.dataDir, { recursive: true, mode: 0o700 });
    const file = join(this.config.dataDir, PROVIDER_KEY_FILE);
    if (existsSync(file)) this.logger.warn(`replacing ${file}: the database had no provider-admin yet`);
    writeFileSync(file, `${apiKey}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    if (this.config.env === 'production') {
      // Container logs are not a place for credentials: say where it is, never what it is.
      this.logger.log(`first start: the provider-admin API key is in ${file} (mode 0600); move it somewhere safe and delete the file`);
      return;
    }
    // Development: printed once, to the terminal only (not through the structured log).
    process.stdout.write(`\nFirst start: provider-admin API key (also in ${file}, mode 0600):\n  ${apiKey}\n\n`);
  }

  /** The first provider-admin's API key: through its own enrollment when unsealed, unbound (unseal only) when sealed. */
  private async firstKey(principalId: string): Promise<string> {
    const sealed = await this.root.requireCredentialMacKey().then(
      () => false,
      () => true,
    );
    if (sealed) return this.credentials.issue(PROVIDER_LOG, principalId, 'provider-admin', null);
    const issued = await this.enrollments.issue(PROVIDER_LOG, principalId, SYSTEM);
    const redeemed = await this.enrollments.redeem(issued.enrollment.token, { address: 'bootstrap', requestId: 'bootstrap' });
    if (!('apiKey' in redeemed)) throw new Error('the bootstrap provider-admin has no enrollment key: its API key cannot be wrapped');
    return redeemed.apiKey;
  }
}
