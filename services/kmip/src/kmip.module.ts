import { Module, type DynamicModule } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import { CommandExecutor, CommitStore, executorLimitsOf } from '@keyward/event-log';
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
import { CommitListeners, EventStreamListener, KeysModule, RootKeyService } from '@keyward/keys';
import { KmipMetrics } from './kmip.metrics';
import { KmipOperations } from './kmip.operations';
import { KmipServer } from './kmip.server';

export const KMIP = 'kmip';

/** Readiness of the KMIP listener itself (the TLS port accepts connections). */
const listenerHealth = (server: KmipServer): HealthIndicatorResult =>
  server.listening ? { kmip: { status: 'up' } } : { kmip: { status: 'down', reason: 'the KMIP port is not listening' } };

/**
 * The kmip service: its own CommandExecutor over the same commits collection (the key-api relay
 * publishes every stored commit), and key-api's key services from libs/keys (KeysModule: keystore,
 * root key, usage topic, KeyStateSource, EventStreamListener, Shredder): tenant logs are kept in memory and re-read only
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
      // CommandExecutor too: the shared key services (KeysModule) run on it.
      exports: [EXTRA_READINESS_CHECKS, CommandExecutor],
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, KMIP),
        MetricsModule.forRoot(KMIP),
        ConnectionsModule,
        HealthModule,
        KeysModule,
      ],
      providers: [
        { provide: CommitStore, inject: [MongoConnection], useFactory: (m: MongoConnection) => new CommitStore(m.db) },
        {
          provide: CommandExecutor,
          inject: [CommitStore, CommitListeners],
          // After each commit this service makes, the shared Shredder (libs/keys) shreds and forgets as in key-api.
          useFactory: (store: CommitStore, listeners: CommitListeners) =>
            new CommandExecutor(store, (commit) => listeners.notify(commit), undefined, executorLimitsOf(config.limits)),
        },
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
