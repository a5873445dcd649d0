import { Module, type DynamicModule } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import { Keystore, shredCommitted } from '@keyward/crypto';
import { CommandExecutor, CommitStore, executorLimitsOf, type Commit } from '@keyward/event-log';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import {
  ConfigModule,
  ConnectionsModule,
  EXTRA_READINESS_CHECKS,
  HealthModule,
  LoggingModule,
  MetricsModule,
  MongoConnection,
} from '@keyward/platform';
import {
  EncryptionBudgetService,
  EventStreamListener,
  KeyMaterialService,
  KeyStateSource,
  RootKeyService,
  UsageRecorder,
} from '@keyward/keys';
import { KmipMetrics } from './kmip.metrics';
import { KmipOperations } from './kmip.operations';
import { KmipServer } from './kmip.server';

export const KMIP = 'kmip';

/**
 * As key-api's Shredder, for the commits this service makes: a destroyed key's material leaves the
 * keystore before the operation answers (the projector repeats it), and unwrapped copies of keys
 * that may no longer protect data leave memory.
 */
async function shredAfterCommit(
  commit: Commit,
  keystore: Keystore,
  materials: KeyMaterialService,
  executor: CommandExecutor,
): Promise<void> {
  for (const event of commit.events) {
    if (event.type === 'key.destroyed.v1' || event.type === 'key.deactivated.v1' || event.type === 'key.compromised.v1') {
      materials.forgetKey(commit.tenantId, event.data.keyId);
    }
  }
  const log = executor.peek(commit.tenantId); // the commit is folded: destroyed versions are shredded by `_id`
  await shredCommitted(
    keystore,
    commit.tenantId,
    commit.events,
    (keyId, version) => log?.keys.get(keyId)?.versions.find((v) => v.version === version)?.kcv,
  );
}

/** Readiness of the KMIP listener itself (the TLS port accepts connections). */
const listenerHealth = (server: KmipServer): HealthIndicatorResult =>
  server.listening ? { kmip: { status: 'up' } } : { kmip: { status: 'down', reason: 'the KMIP port is not listening' } };

/**
 * The kmip service: its own CommandExecutor over the same commits collection (the key-api relay
 * publishes every stored commit), the same keystore, root key and usage topic as key-api, and
 * key-api's KeyStateSource and EventStreamListener: tenant logs are kept in memory and re-read only
 * when keyward.events carries a newer commit (or after CRYPTO_STATE_TTL_MS). Health (/health/live,
 * /health/ready: MongoDB, Kafka, root key unsealed, KMIP port listening, events stream joined) and
 * /metrics are served over plain HTTP on KMIP_HTTP_HOST:KMIP_HTTP_PORT.
 */
@Module({})
export class KmipModule {
  static forRoot(config: KeywardConfig): DynamicModule {
    return {
      module: KmipModule,
      // Global so that the platform's HealthController sees the readiness checks below.
      global: true,
      exports: [EXTRA_READINESS_CHECKS],
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, KMIP),
        MetricsModule.forRoot(KMIP),
        ConnectionsModule,
        HealthModule,
      ],
      providers: [
        { provide: CommitStore, inject: [MongoConnection], useFactory: (m: MongoConnection) => new CommitStore(m.db) },
        { provide: Keystore, inject: [MongoConnection], useFactory: (m: MongoConnection) => new Keystore(m.db) },
        {
          provide: CommandExecutor,
          inject: [CommitStore, Keystore, KeyMaterialService],
          useFactory: (store: CommitStore, keystore: Keystore, materials: KeyMaterialService) => {
            const executor: CommandExecutor = new CommandExecutor(
              store,
              (commit) => shredAfterCommit(commit, keystore, materials, executor),
              undefined,
              executorLimitsOf(config.limits),
            );
            return executor;
          },
        },
        RootKeyService,
        KeyMaterialService,
        EncryptionBudgetService,
        UsageRecorder,
        // As in key-api: tenant logs answered from memory, re-read when keyward.events carries a newer commit.
        KeyStateSource,
        EventStreamListener,
        KmipMetrics,
        KmipOperations,
        KmipServer,
        {
          provide: EXTRA_READINESS_CHECKS,
          inject: [RootKeyService, KmipServer, EventStreamListener],
          useFactory: (root: RootKeyService, server: KmipServer, stream: EventStreamListener) => [
            () => Promise.resolve(root.health()),
            () => Promise.resolve(listenerHealth(server)),
            () => Promise.resolve(stream.health()),
          ],
        },
      ],
    };
  }
}
