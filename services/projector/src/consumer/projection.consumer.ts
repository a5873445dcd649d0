import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { Gauge } from 'prom-client';
import type { KeywardConfig } from '@keyward/config';
import { Keystore, shredCommitted } from '@keyward/crypto';
import {
  CommitStore,
  ForgedCommits,
  fromMessage,
  guardedWritesFor,
  Projector,
  verifyCommitMessages,
  ViewCollections,
  ensureTopics,
  type Commit,
} from '@keyward/event-log';
import { KafkaConnection, KEYWARD_CONFIG, MetricsRegistry, MongoConnection, retryUntilDone } from '@keyward/platform';

/**
 * One projector group per event topic: projectors of different deployments (or test stacks) that
 * share a Kafka cluster never join each other's group.
 */
export const projectorGroup = (eventsTopic: string): string => `keyward-projector.${eventsTopic}`;

/** Consumes keyward.events in a consumer group and keeps the key-set views current. */
@Injectable()
export class ProjectionConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('projector');
  private consumer: Consumer | undefined;
  private readonly projector: Projector;
  private readonly views: ViewCollections;
  private readonly keystore: Keystore;
  private readonly lag: Gauge<'partition'>;
  private readonly store: CommitStore;
  private readonly forged: ForgedCommits;

  constructor(
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
    private readonly kafka: KafkaConnection,
    private readonly mongo: MongoConnection,
    metrics: MetricsRegistry,
  ) {
    this.views = new ViewCollections(mongo.db);
    this.keystore = new Keystore(mongo.db);
    this.store = new CommitStore(mongo.db);
    this.projector = new Projector(this.views, this.store);
    this.forged = new ForgedCommits(metrics.registry, 'projector', this.logger);
    this.lag = new Gauge({
      name: 'keyward_projection_lag_messages',
      help: 'Messages of keyward.events not yet projected, per partition',
      labelNames: ['partition'],
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    // Start in the background: the service stays up (and says not-ready) while Kafka is away.
    void this.startWithRetry();
  }

  private startWithRetry(): Promise<void> {
    return retryUntilDone(
      () => this.start(),
      async (reason) => {
        this.logger.warn(`cannot start consuming yet (${reason}); retrying`);
        await this.consumer?.disconnect().catch(() => undefined);
        this.consumer = undefined;
      },
    );
  }

  private async start(): Promise<void> {
    await this.views.ensureIndexes();
    const guarded = await guardedWritesFor(this.mongo.db);
    this.projector.useGuardedWrites(guarded);
    this.logger.log(`guarded view writes: ${guarded}`);
    await ensureTopics(this.kafka.kafka, this.config.kafka);
    const consumer = this.kafka.kafka.consumer({
      groupId: projectorGroup(this.config.kafka.topics.events),
      allowAutoTopicCreation: false,
      retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5_000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => this.projector.reset());
    consumer.on(consumer.events.CRASH, (e) =>
      this.logger.error(`consumer crashed: ${String(e.payload.error)} (restart: ${String(e.payload.restart)})`),
    );
    await consumer.connect();
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
    // A message is only a claim: what is projected and shredded is the store's commit of the same
    // (tenantId, seq), and only when the message carries its hash (CommitStore.getMany: reads by
    // `_id` for a small batch, one `$in` for a large one).
    const { verified, rejected } = await verifyCommitMessages(this.store, claimed);
    this.forged.report(rejected);
    const commits = verified;
    await this.projector.apply(commits);
    // Repeat the writer's crypto-shredding (idempotent): a crash after a destruction's commit
    // and before its delete still leaves no material behind.
    for (const commit of commits) {
      const count = await shredCommitted(this.keystore, commit.tenantId, commit.events);
      if (count > 0) this.logger.warn(`shredded ${count} keystore entries the writer had left (${commit.tenantId}:${commit.seq})`);
    }
    resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    await heartbeat();
    const lag = Number(batch.highWatermark) - Number(batch.lastOffset()) - 1;
    this.lag.set({ partition: String(batch.partition) }, Math.max(0, lag));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
