import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { Gauge } from 'prom-client';
import type { KeywardConfig } from '@keyward/config';
import { CredentialStore } from '@keyward/auth';
import { Keystore } from '@keyward/crypto';
import {
  backfillDue,
  CommitStore,
  ForgedCommits,
  fromMessage,
  olderViewSchema,
  Projector,
  verifyCommitMessages,
  ViewCollections,
  VIEW_SCHEMA_VERSION,
  ensureTopics,
  type Commit,
} from '@keyward/event-log';
import {
  GROUP_CONSUMER_SETTINGS,
  GroupConsumer,
  KafkaConnection,
  KEYWARD_CONFIG,
  MetricsRegistry,
  MongoConnection,
  retryUntilDone,
} from '@keyward/platform';
import { repeatStoreEffects } from './repeat-effects';

/**
 * One projector group per event topic: projectors of different deployments (or test stacks) that
 * share a Kafka cluster never join each other's group.
 */
export const projectorGroup = (eventsTopic: string): string => `keyward-projector.${eventsTopic}`;

/** Consumes keyward.events in a consumer group and keeps the key-set views current. */
@Injectable()
export class ProjectionConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('projector');
  private readonly consumer: GroupConsumer;
  private readonly projector: Projector;
  private readonly views: ViewCollections;
  private readonly keystore: Keystore;
  private readonly credentials: CredentialStore;
  private readonly lag: Gauge<'partition'>;
  private readonly store: CommitStore;
  private readonly forged: ForgedCommits;
  /** Tenants without a tenant index or with an older view schema this instance has still to rebuild (-1: not counted yet). */
  private readonly toIndex: Gauge;

  constructor(
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
    private readonly kafka: KafkaConnection,
    private readonly mongo: MongoConnection,
    metrics: MetricsRegistry,
  ) {
    this.consumer = new GroupConsumer(kafka.kafka, metrics, {
      name: 'projector',
      groupId: projectorGroup(config.kafka.topics.events),
      config: { allowAutoTopicCreation: false },
      run: (consumer) => this.consume(consumer),
    });
    this.views = new ViewCollections(mongo.db);
    this.keystore = new Keystore(mongo.db);
    this.credentials = new CredentialStore(mongo.db);
    this.store = new CommitStore(mongo.db);
    this.projector = new Projector(this.views, this.store);
    this.forged = new ForgedCommits(metrics.registry, 'projector', this.logger);
    this.toIndex = new Gauge({
      name: 'keyward_projector_tenants_to_index',
      help: 'Tenants whose views were projected before the tenant index existed, or by an older view schema, still to be rebuilt at start (-1 until counted; key lists of a tenant without an index read every view until then)',
      registers: [metrics.registry],
    });
    this.toIndex.set(-1);
    this.lag = new Gauge({
      name: 'keyward_projection_lag_messages',
      help: 'Messages of keyward.events not yet projected, per partition',
      labelNames: ['partition'],
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    // Start in the background: the service stays up (and says not-ready) while Kafka is away.
    void retryUntilDone(
      () => this.prepare(),
      (reason) => this.logger.warn(`cannot start consuming yet (${reason}); retrying`),
    ).then(() => {
      this.consumer.start();
      void this.indexOlderTenants().catch((err: unknown) =>
        this.logger.warn(`indexing tenants projected before the tenant index failed: ${err instanceof Error ? err.message : String(err)}`),
      );
      // Once per store (views projected before view_due existed); key-api's scheduler reads the key views until then.
      void retryUntilDone(
        async () => {
          const inserted = await backfillDue(this.views);
          if (inserted !== null) this.logger.log(`view_due backfilled from the key views (${inserted} key(s) with a pending date)`);
        },
        (reason) => this.logger.warn(`cannot backfill view_due yet (${reason}); retrying`),
      );
    });
  }

  /**
   * Views projected before there was a tenant index are listed by a query over all views until
   * the tenant is written again, and views an older VIEW_SCHEMA_VERSION wrote differ from what the
   * log now folds into: rebuild those tenants once, at start (one read of the checkpoint ids and of
   * the index ids and versions; nothing to do once every tenant has an index of this version).
   */
  private async indexOlderTenants(): Promise<void> {
    const [checkpoints, indexes] = await Promise.all([
      this.views.checkpoints.find({}, { projection: { _id: 1 } }).toArray(),
      this.views.indexes.find({}, { projection: { _id: 1, schema: 1 } }).toArray(),
    ]);
    const current = new Set(indexes.filter((i) => !olderViewSchema(i)).map((i) => i._id));
    const missing = checkpoints.map((c) => c._id).filter((id) => !current.has(id));
    this.toIndex.set(missing.length);
    if (missing.length === 0) return;
    await this.projector.index(missing, () => this.toIndex.dec());
    this.toIndex.set(0);
    this.logger.log(
      `rebuilt ${missing.length} tenant(s) projected before the tenant index or by an older view schema (now ${VIEW_SCHEMA_VERSION})`,
    );
  }

  /** Readiness: views that no longer follow the topic go stale (down once out of the group for the grace period). */
  health(): HealthIndicatorResult<'projection'> {
    return this.consumer.health('projection');
  }

  private async prepare(): Promise<void> {
    await this.views.ensureIndexes();
    await ensureTopics(this.kafka.kafka, this.config.kafka);
  }

  /** Runs one (re)started consumer of the group; GroupConsumer restarts it after a crash. */
  private async consume(consumer: Consumer): Promise<void> {
    consumer.on(consumer.events.GROUP_JOIN, () => this.projector.reset());
    consumer.on(consumer.events.CRASH, (e) => this.logger.error(`consumer crashed: ${String(e.payload.error)}`));
    await consumer.subscribe({ topic: this.config.kafka.topics.events, fromBeginning: true });
    await consumer.run({ autoCommit: true, eachBatchAutoResolve: false, eachBatch: (payload) => this.onBatch(payload) });
    this.logger.log(`projecting ${this.config.kafka.topics.events} as group ${projectorGroup(this.config.kafka.topics.events)}`);
  }

  private async onBatch({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const claimed: Commit[] = [];
    for (const message of batch.messages) {
      try {
        claimed.push(fromMessage(message.value));
      } catch {
        this.forged.malformed(`${batch.partition}/${message.offset}`);
      }
    }
    if (!isRunning() || isStale()) return;
    // A batch on a slow store can outlast the session: keep the membership alive meanwhile.
    const keepAlive = setInterval(() => void heartbeat().catch(() => undefined), GROUP_CONSUMER_SETTINGS.heartbeatInterval);
    try {
      // A message is only a claim: what is projected and shredded is the store's commit of the same
      // (tenantId, seq), and only when the message carries its hash (CommitStore.getMany: reads by
      // `_id`, a few in flight).
      const { verified, rejected } = await verifyCommitMessages(this.store, claimed);
      this.forged.report(rejected);
      const commits = verified;
      await this.projector.apply(commits);
      // Repeat the writer's store effects (idempotent): a crash after a destruction's (or a
      // revocation's) commit and before its delete (or disable) still leaves nothing behind.
      for (const commit of commits) {
        const { shredded, disabled } = await repeatStoreEffects(commit, this.keystore, this.credentials);
        if (shredded > 0) this.logger.warn(`shredded ${shredded} keystore entries the writer had left (${commit.tenantId}:${commit.seq})`);
        if (disabled > 0)
          this.logger.warn(`disabled ${disabled} API keys of revoked principals the writer had left (${commit.tenantId}:${commit.seq})`);
      }
    } finally {
      clearInterval(keepAlive);
    }
    resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    await heartbeat();
    const lag = Number(batch.highWatermark) - Number(batch.lastOffset()) - 1;
    this.lag.set({ partition: String(batch.partition) }, Math.max(0, lag));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }
}
