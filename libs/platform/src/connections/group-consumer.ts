import { Logger } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { withTimeout } from '../health/with-timeout';
import type { MetricsRegistry } from '../metrics/metrics.registry';
import { GROUP_CONSUMER_SETTINGS } from './consumer-settings';
import { GroupMembership, restartDelayMs } from './group-membership';

export interface GroupConsumerOptions {
  /** Label of the metrics and logs: 'projector', 'event-stream'. */
  readonly name: string;
  readonly groupId: string;
  /** Per-consumer settings on top of GROUP_CONSUMER_SETTINGS (allowAutoTopicCreation, maxWaitTimeInMs). */
  readonly config?: Omit<ConsumerConfig, 'groupId' | 'retry' | 'sessionTimeout' | 'heartbeatInterval' | 'rebalanceTimeout'>;
  /** Subscribes and runs the (connected) consumer; called again for every restarted consumer. */
  readonly run: (consumer: Consumer) => Promise<void>;
  /** How long a lost group is tolerated before readiness says down (default 15 s). */
  readonly graceMs?: number;
}

/**
 * A long-lived kafkajs group consumer that comes back after a broker restart within a bounded
 * time: on a crash it disconnects the consumer and starts a new one after a jittered backoff
 * (instead of kafkajs' 300 ms restart loop), measures each rejoin
 * (keyward_consumer_rejoin_seconds) and reports whether it is joined (health()).
 */
export class GroupConsumer {
  private readonly logger: Logger;
  private readonly membership: GroupMembership;
  private readonly rejoins: Histogram<'consumer'>;
  private readonly joinedGauge: Gauge<'consumer'>;
  private consumer: Consumer | undefined;
  private stopped = false;
  private failures = 0;
  private interrupt: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    metrics: MetricsRegistry,
    private readonly options: GroupConsumerOptions,
  ) {
    this.logger = new Logger(options.name);
    this.membership = new GroupMembership(options.graceMs ?? 15_000);
    this.rejoins = metric(
      metrics.registry,
      'keyward_consumer_rejoin_seconds',
      (registers) =>
        new Histogram({
          name: 'keyward_consumer_rejoin_seconds',
          help: 'Time from reaching the broker again (after a crash, rebalance or broker restart) until the consumer rejoined its group',
          labelNames: ['consumer'],
          buckets: [0.1, 0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120],
          registers,
        }),
    );
    this.joinedGauge = metric(
      metrics.registry,
      'keyward_consumer_joined',
      (registers) =>
        new Gauge({
          name: 'keyward_consumer_joined',
          help: '1 while the consumer is a member of its group, else 0',
          labelNames: ['consumer'],
          registers,
        }),
    );
    this.joinedGauge.set({ consumer: options.name }, 0);
  }

  /** Starts consuming in the background; never throws (failures are logged and retried). */
  start(): void {
    this.loop ??= this.runForever();
  }

  get joined(): boolean {
    return this.membership.isJoined;
  }

  /** Readiness entry under `key`: down until joined, and once out of the group for the grace period. */
  health<K extends string>(key: K): HealthIndicatorResult<K> {
    const state = this.membership.health();
    const entry = state.up ? { status: 'up' as const } : { status: 'down' as const, reason: `${this.options.name} ${state.reason}` };
    return { [key]: entry } as HealthIndicatorResult<K>;
  }

  /** Disconnects (leaving the group) and stops restarting. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.interrupt?.();
    const consumer = this.consumer;
    if (consumer) await withTimeout(consumer.disconnect(), 15_000, `${this.options.name} disconnect`).catch(() => undefined);
    // A consumer still connecting to an absent broker may not notice the disconnect: do not wait for it forever.
    if (this.loop) await withTimeout(this.loop, 5_000, `${this.options.name} stop`).catch(() => undefined);
  }

  private async runForever(): Promise<void> {
    while (!this.stopped) {
      const reason = await this.runOnce();
      this.membership.lost();
      this.joinedGauge.set({ consumer: this.options.name }, 0);
      if (this.isStopped()) return; // stop() may have come while the consumer ran
      const delay = restartDelayMs(this.failures++);
      this.logger.warn(`consumer of ${this.options.groupId} stopped (${reason}); starting a new one in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  private isStopped(): boolean {
    return this.stopped;
  }

  /** One consumer, from connect until it crashes (or stop()); returns why it ended. */
  private async runOnce(): Promise<string> {
    const consumer = this.kafka.consumer({ ...this.options.config, ...GROUP_CONSUMER_SETTINGS, groupId: this.options.groupId });
    this.consumer = consumer;
    const ended = new Promise<string>((resolve) => {
      this.interrupt = () => resolve('stopped');
      consumer.on(consumer.events.CRASH, (e) => resolve(`crashed: ${String(e.payload.error)}`));
    });
    consumer.on(consumer.events.GROUP_JOIN, () => this.onJoin());
    consumer.on(consumer.events.REBALANCING, () => this.membership.lost());
    for (const event of [consumer.events.FETCH, consumer.events.HEARTBEAT, consumer.events.END_BATCH_PROCESS]) {
      consumer.on(event, () => this.membership.active());
    }
    let reason: string;
    try {
      await consumer.connect();
      // The broker answers again: the next restart (say, the coordinator is still loading) comes soon.
      this.failures = 0;
      this.membership.reachable();
      await this.options.run(consumer);
      reason = await ended;
    } catch (err: unknown) {
      reason = err instanceof Error ? err.message : String(err);
    }
    this.interrupt = undefined;
    // kafkajs disconnects a crashed consumer itself; this covers failures before run() and is a no-op otherwise.
    await withTimeout(consumer.disconnect(), 15_000, `${this.options.name} disconnect`).catch(() => undefined);
    return reason;
  }

  private onJoin(): void {
    this.failures = 0;
    this.joinedGauge.set({ consumer: this.options.name }, 1);
    const rejoin = this.membership.join();
    if (!rejoin) return;
    this.rejoins.observe({ consumer: this.options.name }, rejoin.rejoinMs / 1000);
    this.logger.log(
      `rejoined ${this.options.groupId} ${(rejoin.rejoinMs / 1000).toFixed(1)} s after reaching the broker ` +
        `(${(rejoin.downMs / 1000).toFixed(1)} s after losing the group)`,
    );
  }
}

/** One metric per process even when several consumers (or a restarted one) ask for it. */
function metric<T>(registry: Registry, name: string, create: (registers: Registry[]) => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create([registry]);
}
