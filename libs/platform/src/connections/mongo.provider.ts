import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { MongoClient, type Db } from 'mongodb';
import type { KeywardConfig } from '@keyward/config';
import { KEYWARD_CONFIG } from '../config/config.token';

/**
 * The process's MongoDB client. The driver reconnects by itself when the server comes back,
 * so a restarted database needs no restarted service.
 */
@Injectable()
export class MongoConnection implements OnApplicationShutdown {
  private readonly logger = new Logger(MongoConnection.name);
  readonly client: MongoClient;
  readonly db: Db;

  constructor(@Inject(KEYWARD_CONFIG) config: KeywardConfig) {
    this.client = new MongoClient(config.mongo.uri, {
      serverSelectionTimeoutMS: 5_000,
      connectTimeoutMS: 3_000,
      heartbeatFrequencyMS: 2_000,
      appName: config.kafka.clientId,
    });
    this.db = this.client.db(config.mongo.db);
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close().catch((err: unknown) => this.logger.warn(`closing MongoDB client: ${String(err)}`));
  }
}
