import { BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Producer } from 'kafkajs';
import { Counter, Gauge } from 'prom-client';
import type { KeywardConfig } from '@keyward/config';
import type { CryptoOperation, Role } from '@keyward/domain';
import { KafkaConnection, KEYWARD_CONFIG, MetricsRegistry } from '@keyward/platform';
import { usageMessages } from './usage-message';

/** One crypto operation, for audit: who, which key version, what, how it ended. Never data. */
export interface UsageRecord {
  readonly v: 1;
  readonly tenantId: string;
  readonly principalId: string;
  readonly role: Role;
  readonly operation: CryptoOperation | 'export';
  readonly keyId: string | null;
  readonly version: number | null;
  /** `ok`, or the problem slug the caller received. */
  readonly outcome: string;
  readonly requestId: string;
  readonly at: string;
}

/**
 * Batches usage records to the usage topic off the request path (one message per tenant per flush,
 * see usage-message.ts). Records wait in memory while Kafka is away (bounded; the oldest are
 * dropped and counted) and are flushed before shutdown.
 */
@Injectable()
export class UsageRecorder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('usage');
  private buffer: UsageRecord[] = [];
  private producer: Producer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly recorded: Counter<'outcome'>;
  private readonly dropped: Counter;
  private readonly sent: Counter;
  private readonly clock = new IsoClock();

  constructor(
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
    private readonly kafka: KafkaConnection,
    metrics: MetricsRegistry,
  ) {
    this.recorded = new Counter({
      name: 'keyward_crypto_operations_total',
      help: 'Crypto operations by outcome',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    this.dropped = new Counter({
      name: 'keyward_usage_records_dropped_total',
      help: 'Usage records dropped because the buffer was full while Kafka was unreachable',
      registers: [metrics.registry],
    });
    this.sent = new Counter({
      name: 'keyward_usage_records_sent_total',
      help: 'Usage records sent to Kafka',
      registers: [metrics.registry],
    });
    const buffered: Gauge = new Gauge({
      name: 'keyward_usage_records_buffered',
      help: 'Usage records waiting to be sent',
      registers: [metrics.registry],
      collect: () => {
        buffered.set(this.buffer.length);
      },
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.config.crypto.usageFlushMs);
    this.timer.unref();
  }

  record(record: Omit<UsageRecord, 'v' | 'at'>): void {
    this.recorded.inc({ outcome: record.outcome === 'ok' ? 'ok' : 'refused' });
    this.buffer.push({
      v: 1,
      tenantId: record.tenantId,
      principalId: record.principalId,
      role: record.role,
      operation: record.operation,
      keyId: record.keyId,
      version: record.version,
      outcome: record.outcome,
      requestId: record.requestId,
      at: this.clock.now(),
    });
    const excess = this.buffer.length - this.config.crypto.usageBufferMax;
    if (excess > 0) {
      this.buffer.splice(0, excess);
      this.dropped.inc(excess);
    }
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Sends what is buffered; one flush at a time; records go back to the buffer when Kafka refuses. */
  flush(): Promise<void> {
    this.flushing ??= this.send().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const deadline = Date.now() + this.config.shutdownGraceMs;
    while (this.buffer.length > 0 && Date.now() < deadline) {
      await this.flush();
      if (this.buffer.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
    if (this.buffer.length > 0) this.logger.error(`shutting down with ${this.buffer.length} usage records unsent (Kafka unreachable)`);
    await this.flushing;
    await this.producer?.disconnect().catch(() => undefined);
  }

  private async send(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      this.producer ??= await this.connect();
      await this.producer.send({
        topic: this.config.kafka.topics.usage,
        acks: -1,
        messages: usageMessages(batch),
      });
      this.sent.inc(batch.length);
    } catch (err: unknown) {
      this.buffer = batch.concat(this.buffer);
      const producer = this.producer;
      this.producer = undefined;
      await producer?.disconnect().catch(() => undefined);
      this.logger.warn(`cannot send ${batch.length} usage records yet (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  private async connect(): Promise<Producer> {
    const producer = this.kafka.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    return producer;
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
