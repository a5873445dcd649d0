import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { MongoServerError } from 'mongodb';
import type { KeywardConfig } from '@keyward/config';
import { CredentialStore, newId } from '@keyward/auth';
import { PROVIDER_LOG } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { KEYWARD_CONFIG, MongoConnection, retryUntilDone } from '@keyward/platform';

export const PROVIDER_KEY_FILE = 'provider-admin.key';

/**
 * First start: create the provider-admin principal and its API key, write the key to the data
 * folder (mode 0600) and print it once. Later starts find the marker and do nothing. A marker
 * insert decides which instance does it when several start together.
 */
@Injectable()
export class ProviderAdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('bootstrap');

  constructor(
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
    private readonly mongo: MongoConnection,
    private readonly executor: CommandExecutor,
    private readonly credentials: CredentialStore,
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
    const apiKey = await this.credentials.issue(PROVIDER_LOG, principalId, 'provider-admin');
    mkdirSync(this.config.dataDir, { recursive: true, mode: 0o700 });
    const file = join(this.config.dataDir, PROVIDER_KEY_FILE);
    if (existsSync(file)) this.logger.warn(`replacing ${file}: the database had no provider-admin yet`);
    writeFileSync(file, `${apiKey}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    // Printed once, to the terminal only (not through the structured log).
    process.stdout.write(`\nFirst start: provider-admin API key (also in ${file}, mode 0600):\n  ${apiKey}\n\n`);
  }
}
