import { randomBytes } from 'node:crypto';

/** Connection settings of the infrastructure scripts/test.mjs started (or the one configured). */
export function testInfra(): { brokers: string[]; mongoUri: string } {
  return {
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    mongoUri: process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017',
  };
}

/** A name no other run or spec uses: topics, databases, consumer groups. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
