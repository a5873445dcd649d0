import { Kafka, logLevel } from 'kafkajs';
import { testInfra, uniqueName } from './env';

/**
 * Everything on a topic, read from the beginning by a consumer group of its own: each message
 * decoded into its items (a usage batch holds several records, a commit message one commit), until
 * `expected` items arrived or `timeoutMs` ran out, then a moment more for a straggler (a duplicate
 * or an unexpected extra) to show up.
 */
export async function readTopicItems<T>(
  topic: string,
  expected: number,
  timeoutMs: number,
  decode: (value: Buffer | null) => T[],
  brokers: readonly string[] = testInfra().brokers,
): Promise<T[]> {
  const kafka = new Kafka({ clientId: 'topic-reader', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('topic-reader'), maxWaitTimeInMs: 200 });
  const items: T[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        items.push(...decode(message.value));
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (items.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    return items;
  } finally {
    await consumer.disconnect();
  }
}
