import { Kafka, logLevel } from 'kafkajs';
import type { UsageRecord } from '../../services/key-api/src/audit/audit.service';
import { usageRecordsOf } from '../../services/key-api/src/crypto/usage-message';
import { testInfra, uniqueName } from './env';

/** One usage audit record, as key-api (and the kmip service) publish them: the auditor API's reading of it. */
export type { UsageRecord } from '../../services/key-api/src/audit/audit.service';

/** Every record on a usage topic, read from the beginning until `expected` arrived or time ran out. */
export async function readUsage(topic: string, expected: number, timeoutMs = 30_000): Promise<UsageRecord[]> {
  const kafka = new Kafka({ clientId: 'usage-reader', brokers: testInfra().brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('usage-reader'), maxWaitTimeInMs: 200 });
  const records: UsageRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        records.push(...(usageRecordsOf(message.value) as UsageRecord[]));
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (records.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // Give a straggler (a duplicate or an unexpected extra) a moment to show up.
    await new Promise((r) => setTimeout(r, 500));
    return records;
  } finally {
    await consumer.disconnect();
  }
}
