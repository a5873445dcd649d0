import { Global, Inject, Injectable, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import type { KeywardConfig } from '@keyward/config';
import { ApiKeyAuthenticator, CredentialStore, SessionStore } from '@keyward/auth';
import { Keystore } from '@keyward/crypto';
import { CommandExecutor, CommitStore, ensureTopics, executorLimitsOf, Lease, Relay, ViewCollections } from '@keyward/event-log';
import { KafkaConnection, KEYWARD_CONFIG, MetricsRegistry, MongoConnection, retryUntilDone } from '@keyward/platform';
import { CommitListeners } from '@keyward/keys';

/** Starts the relay once the stores are reachable; keeps retrying in the background otherwise. */
@Injectable()
export class RelayRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('relay');

  constructor(
    readonly relay: Relay,
    private readonly store: CommitStore,
    private readonly credentials: CredentialStore,
    private readonly views: ViewCollections,
    private readonly keystore: Keystore,
    private readonly kafka: KafkaConnection,
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.prepare();
  }

  private prepare(): Promise<void> {
    return retryUntilDone(
      async () => {
        await Promise.all([
          this.store.ensureIndexes(),
          this.credentials.ensureIndexes(),
          this.views.ensureIndexes(),
          this.keystore.ensureIndexes(),
        ]);
        await ensureTopics(this.kafka.kafka, this.config.kafka);
        this.relay.start();
      },
      (reason) => this.logger.warn(`waiting for MongoDB and Kafka before relaying (${reason})`),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }
}

@Global()
@Module({
  providers: [
    { provide: CommitStore, inject: [MongoConnection], useFactory: (m: MongoConnection) => new CommitStore(m.db) },
    { provide: CredentialStore, inject: [MongoConnection], useFactory: (m: MongoConnection) => new CredentialStore(m.db) },
    { provide: SessionStore, inject: [MongoConnection], useFactory: (m: MongoConnection) => new SessionStore(m.db) },
    { provide: ViewCollections, inject: [MongoConnection], useFactory: (m: MongoConnection) => new ViewCollections(m.db) },
    {
      provide: ApiKeyAuthenticator,
      inject: [CredentialStore, MetricsRegistry, KEYWARD_CONFIG],
      useFactory: (credentials: CredentialStore, metrics: MetricsRegistry, config: KeywardConfig) => {
        const reads = new Counter({
          name: 'keyward_credential_store_reads_total',
          help: 'Reads of the credential store by API key authentication (cache misses)',
          registers: [metrics.registry],
        });
        const unknownHits = new Counter({
          name: 'keyward_auth_unknown_key_cache_hits_total',
          help: 'API keys refused from the cache of unknown key ids, without a store read',
          registers: [metrics.registry],
        });
        const { ttlMs, maxEntries } = config.auth.unknownKeyCache;
        return new ApiKeyAuthenticator(credentials, undefined, undefined, {
          ttlMs,
          maxEntries,
          onStoreRead: () => reads.inc(),
          onUnknownHit: () => unknownHits.inc(),
        });
      },
    },
    {
      provide: Relay,
      inject: [KafkaConnection, CommitStore, MongoConnection, MetricsRegistry, KEYWARD_CONFIG],
      useFactory: (kafka: KafkaConnection, store: CommitStore, mongo: MongoConnection, metrics: MetricsRegistry, config: KeywardConfig) => {
        const lag = new Gauge({
          name: 'keyward_relay_lag_seconds',
          help: 'Age of the oldest commit not yet published to Kafka',
          registers: [metrics.registry],
        });
        const logger = new Logger('relay');
        return new Relay(
          kafka.kafka,
          store,
          new Lease(mongo.db, 'relay'),
          // Commits of this process are handed over (nudge); those of other instances and services (kmip)
          // are found by sweeps: every 100 ms (reads of the commit outbox), slower should a sweep be slow.
          { topic: config.kafka.topics.events, idleMs: 100, onLag: (s) => lag.set(s) },
          logger,
        );
      },
    },
    {
      provide: CommandExecutor,
      inject: [CommitStore, Relay, CommitListeners, KEYWARD_CONFIG],
      useFactory: (store: CommitStore, relay: Relay, listeners: CommitListeners, config: KeywardConfig) =>
        new CommandExecutor(
          store,
          (commit) => {
            relay.nudge(commit);
            return listeners.notify(commit);
          },
          undefined,
          executorLimitsOf(config.limits),
        ),
    },
    RelayRunner,
  ],
  exports: [CommitStore, CredentialStore, SessionStore, ViewCollections, ApiKeyAuthenticator, CommandExecutor, Relay],
})
export class EventLogModule {}
