import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { KeywardConfig } from '@keyward/config';
import { KEYWARD_CONFIG } from '../config/config.token';
import { KafkaConnection } from '../connections/kafka.provider';
import { MongoConnection } from '../connections/mongo.provider';
import { withTimeout } from './with-timeout';

/** Probes Kafka and MongoDB with a bounded wait, so readiness flips fast when either goes away. */
@Injectable()
export class DependencyIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly mongo: MongoConnection,
    private readonly kafka: KafkaConnection,
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
  ) {}

  mongodb(): Promise<HealthIndicatorResult<'mongodb'>> {
    return this.probe('mongodb', () => this.mongo.ping());
  }

  kafkaCluster(): Promise<HealthIndicatorResult<'kafka'>> {
    return this.probe('kafka', () => this.kafka.ping());
  }

  private async probe<K extends string>(key: K, ping: () => Promise<void>): Promise<HealthIndicatorResult<K>> {
    const session = this.indicators.check(key);
    const started = performance.now();
    try {
      await withTimeout(ping(), this.config.healthTimeoutMs, key);
      return session.up({ latencyMs: Math.round(performance.now() - started) });
    } catch (err: unknown) {
      return session.down({ message: err instanceof Error ? err.message : String(err) });
    }
  }
}
