import { randomBytes } from 'node:crypto';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Producer } from 'kafkajs';
import { Counter, Gauge } from 'prom-client';
import type { KeywardConfig } from '@keyward/config';
import type { CryptoOperation, Role } from '@keyward/domain';
import { KafkaConnection, KEYWARD_CONFIG, MetricsRegistry, MongoConnection } from '@keyward/platform';
import { auditUnavailableError } from './errors';
import type { TenantBatch } from './usage-backlog';
import { usageMessages } from './usage-message';
import { UsageOutbox } from './usage-outbox';
import { RECORDS_PER_OUTBOX_BATCH, UsagePipeline, type UsageTopic } from './usage-pipeline';

/** One crypto operation, for audit: who, which key version, what, how it ended. Never data. */
export interface UsageRecord {
  readonly v: 1;
  readonly tenantId: string;
  readonly principalId: string;
  readonly role: Role;
  readonly operation: CryptoOperation | 'export';
  readonly keyId: string | null;
  readonly version: number | null;
  /** The grant that allowed the operation; absent where no grant was needed (open tenants) or none allowed it. */
  readonly grantId?: string;
  /** `ok`, or the problem slug the caller received. */
  readonly outcome: string;
  readonly requestId: string;
  readonly at: string;
}

/** Most records one flush takes from memory (about 3 MiB on the topic, see usage-message.ts). */
const FLUSH_RECORDS_MAX = 50_000;
/** Outbox batches (of at most 500 records) one drain round reads. */
const DRAIN_BATCHES = 100;
/** How often the outbox is read for other instances' batches when this one knows of none. */
const SWEEP_MS = 60_000;
/** How long a send to the topic may be under way before memory goes to the outbox (at least). */
const SPILL_AFTER_MS = 5_000;
/** Seconds a refused caller is told to wait. */
const RETRY_AFTER_S = 5;
/** At most one log line per kind of trouble in this many milliseconds. */
const WARN_EVERY_MS = 10_000;

/**
 * The usage audit of one process: records wait in memory per tenant and are batched to the usage
 * topic off the request path (one message per tenant-batch, see usage-message.ts); while Kafka is
 * away they go to the MongoDB outbox and are drained to the topic, in order, when it returns (see
 * usage-pipeline.ts). When neither can take more of a tenant's records, that tenant's crypto is
 * refused before it runs (USAGE_AUDIT_POLICY=fail-closed, the default) or its oldest records are
 * dropped and counted (fail-open). A graceful stop flushes memory to the topic or the outbox.
 */
@Injectable()
export class UsageRecorder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('usage');
  private readonly pipeline: UsagePipeline<UsageRecord>;
  private producer: Producer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly recorded: Counter<'outcome'>;
  private readonly refusals: Counter;
  private readonly clock = new IsoClock();
  private readonly lastWarned = new Map<string, number>();

  constructor(
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
    private readonly kafka: KafkaConnection,
    mongo: MongoConnection,
    metrics: MetricsRegistry,
  ) {
    const registers = [metrics.registry];
    this.recorded = new Counter({
      name: 'keyward_crypto_operations_total',
      help: 'Crypto operations by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.refusals = new Counter({
      name: 'keyward_usage_refusals_total',
      help: 'Crypto operations refused (503 audit-unavailable) because the usage audit could take no more records of their tenant',
      registers,
    });
    const dropped = new Counter({
      name: 'keyward_usage_records_dropped_total',
      help: 'Usage records dropped because neither Kafka nor the outbox could take them (fail-open, or past the fail-closed headroom)',
      registers,
    });
    const sent = new Counter({ name: 'keyward_usage_records_sent_total', help: 'Usage records sent to Kafka from memory', registers });
    const outboxed = new Counter({
      name: 'keyward_usage_outbox_written_total',
      help: 'Usage records written to the outbox while Kafka was away or slow',
      registers,
    });
    const drained = new Counter({
      name: 'keyward_usage_outbox_drained_total',
      help: 'Usage records sent to Kafka from the outbox',
      registers,
    });
    const crypto = config.crypto;
    this.pipeline = new UsagePipeline<UsageRecord>(
      {
        policy: crypto.usageAuditPolicy,
        tenantMax: crypto.usageBacklogMax,
        totalMax: crypto.usageBufferMax,
        outboxMax: crypto.usageOutboxMax,
        // What is on its way (a send, a spill, a drain round) at most the memory bound each.
        batchMax: Math.min(FLUSH_RECORDS_MAX, crypto.usageBufferMax),
        drainBatches: Math.max(1, Math.min(DRAIN_BATCHES, Math.floor(crypto.usageBufferMax / RECORDS_PER_OUTBOX_BATCH))),
        sweepMs: SWEEP_MS,
        // A send under way this long counts as the broker being away (kafkajs gives up later).
        spillAfterMs: Math.max(SPILL_AFTER_MS, 25 * crypto.usageFlushMs),
        instance: `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`,
        now: Date.now,
      },
      this.topic(),
      new UsageOutbox<UsageRecord>(mongo.db),
      {
        sent: (n) => sent.inc(n),
        outboxed: (n) => outboxed.inc(n),
        drained: (n) => drained.inc(n),
        dropped: (n) => {
          dropped.inc(n);
          this.warn('dropped', `dropped ${n} usage records: neither Kafka nor the outbox could take them`);
        },
        warn: (message) => this.warn(message.split(' ').slice(0, 3).join(' '), message),
      },
    );
    const gauge = (name: string, help: string, value: () => number) => {
      const g: Gauge = new Gauge({ name, help, registers, collect: () => g.set(value()) });
    };
    gauge(
      'keyward_usage_records_buffered',
      'Usage records in memory, not yet on Kafka nor in the outbox',
      () => this.pipeline.backlog.size,
    );
    gauge('keyward_usage_backlog_tenant_max', 'The largest backlog of one tenant in memory (records)', () =>
      this.pipeline.backlog.largest(),
    );
    gauge('keyward_usage_outbox_records', 'Usage records of this instance in the outbox', () => this.pipeline.outboxRecords);
    gauge('keyward_usage_kafka_available', '1 while the usage topic takes records, 0 while records go to the outbox', () =>
      this.pipeline.topicAvailable ? 1 : 0,
    );
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.pipeline.tick(), this.config.crypto.usageFlushMs);
    this.timer.unref();
  }

  /**
   * Throws KeyUseError `audit-unavailable` when an operation of `tenantId` may not run because its usage
   * record could not be kept (fail-closed only). Call before any crypto.
   */
  admit(tenantId: string): void {
    if (this.pipeline.admits(tenantId)) return;
    this.refusals.inc();
    throw auditUnavailableError(RETRY_AFTER_S);
  }

  record(record: Omit<UsageRecord, 'v' | 'at'>): void {
    this.recorded.inc({ outcome: record.outcome === 'ok' ? 'ok' : 'refused' });
    this.pipeline.record({
      v: 1,
      tenantId: record.tenantId,
      principalId: record.principalId,
      role: record.role,
      operation: record.operation,
      keyId: record.keyId,
      version: record.version,
      ...(record.grantId === undefined ? {} : { grantId: record.grantId }),
      outcome: record.outcome,
      requestId: record.requestId,
      at: this.clock.now(),
    });
  }

  /** Records in memory, not yet on Kafka nor in the outbox. */
  get pending(): number {
    return this.pipeline.backlog.size;
  }

  /** One flush now (tests, shutdown). */
  flush(): Promise<void> {
    return this.pipeline.tick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // Within the grace period the process gives itself (run-service exits when it has passed).
    const left = await this.pipeline.close(Date.now() + this.config.shutdownGraceMs * 0.8);
    if (left > 0) this.logger.error(`shutting down with ${left} usage records neither on Kafka nor in the outbox (both unreachable)`);
    await this.producer?.disconnect().catch(() => undefined);
  }

  private topic(): UsageTopic<UsageRecord> {
    return {
      probe: () => this.kafka.ping(),
      send: async (batches: readonly TenantBatch<UsageRecord>[]) => {
        this.producer ??= await this.connect();
        await this.producer.send({
          topic: this.config.kafka.topics.usage,
          acks: -1,
          // One message per tenant (per MAX_RECORDS_PER_MESSAGE), whatever the batches: a tenant's batches are in order.
          messages: usageMessages(batches.flatMap((b) => b.records)),
        });
      },
      reset: async () => {
        const producer = this.producer;
        this.producer = undefined;
        await producer?.disconnect().catch(() => undefined);
      },
    };
  }

  private async connect(): Promise<Producer> {
    const producer = this.kafka.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Fail in seconds rather than minutes: the outbox takes the records meanwhile.
      retry: { retries: 2 },
    });
    try {
      await producer.connect();
    } catch (err: unknown) {
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
    return producer;
  }

  private warn(kind: string, message: string): void {
    const now = Date.now();
    if (now - (this.lastWarned.get(kind) ?? 0) < WARN_EVERY_MS) return;
    this.lastWarned.set(kind, now);
    this.logger.warn(message);
  }
}

/** The current time as an ISO 8601 string, formatted once per millisecond however many records share it. */
class IsoClock {
  private ms = 0;
  private iso = '';

  now(): string {
    const ms = Date.now();
    if (ms !== this.ms) {
      this.ms = ms;
      this.iso = new Date(ms).toISOString();
    }
    return this.iso;
  }
}
