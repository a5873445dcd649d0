import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Kafka, logLevel, type Admin, type LogEntry } from 'kafkajs';
import { kafkaClientSecurity, type KeywardConfig } from '@keyward/config';
import { KEYWARD_CONFIG } from '../config/config.token';
import { GROUP_REQUEST_TIMEOUT_MS } from './consumer-settings';
import { fixIdleRequestQueue } from './kafkajs-request-queue';

// Before any connection: kafkajs 2.2.4 otherwise spins a 1 ms timer per idle broker connection.
fixIdleRequestQueue();

/** The process's kafkajs client, logging through Nest's logger instead of its own console. */
@Injectable()
export class KafkaConnection implements OnApplicationShutdown {
  private readonly logger = new Logger('kafkajs');
  readonly kafka: Kafka;
  private probeAdmin: Admin | undefined;

  constructor(@Inject(KEYWARD_CONFIG) readonly config: KeywardConfig) {
    this.kafka = new Kafka({
      clientId: config.kafka.clientId,
      brokers: [...config.kafka.brokers],
      ...kafkaClientSecurity(config.kafka.security),
      connectionTimeout: 3_000,
      // Above the group consumers' session timeout: a SyncGroup may wait that long for a dead leader.
      requestTimeout: GROUP_REQUEST_TIMEOUT_MS,
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => this.log(entry),
    });
  }

  /** A cheap round trip to the cluster: metadata for the brokers. */
  async ping(): Promise<void> {
    this.probeAdmin ??= this.kafka.admin({ retry: { retries: 0 } });
    await this.probeAdmin.connect();
    await this.probeAdmin.describeCluster();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.probeAdmin?.disconnect().catch(() => undefined);
  }

  private log(entry: LogEntry): void {
    const message = `${entry.log.message} (${entry.namespace})`;
    if (entry.level <= logLevel.ERROR) this.logger.error(message);
    else if (entry.level === logLevel.WARN) this.logger.warn(message);
    else this.logger.debug(message);
  }
}
