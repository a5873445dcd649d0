// The replay baseline: a bare kafkajs consumer that reads a topic from offset 0 to the end it had
// at the start, exactly like the projector's rebuild does (fresh consumer group, eachBatch, the
// same fetch sizes), but without parsing or projecting anything. Env: KAFKA_BROKERS, TOPIC. Prints
// one JSON line.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from '../lib/util.mjs';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs');
const { REPLAY_FETCH } = require(join(repoRoot, 'dist', 'libs', 'event-log', 'src', 'index.js'));

const topic = process.env.TOPIC;
const kafka = new Kafka({ clientId: 'keyward-bench-bare', brokers: process.env.KAFKA_BROKERS.split(','), logLevel: logLevel.WARN });

const started = performance.now();
const admin = kafka.admin();
await admin.connect();
const offsets = await admin.fetchTopicOffsets(topic);
await admin.disconnect();
const end = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
const pending = new Set(offsets.filter((o) => Number(o.high) > Number(o.low)).map((o) => o.partition));
let messages = 0;
let bytes = 0;
let firstMessageAt = null;

if (pending.size > 0) {
  const consumer = kafka.consumer({
    groupId: `keyward-bench-bare-${randomUUID()}`,
    allowAutoTopicCreation: false,
    ...REPLAY_FETCH,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          firstMessageAt ??= performance.now();
          const limit = end.get(batch.partition) ?? 0;
          for (const m of batch.messages) {
            if (Number(m.offset) < limit) {
              messages += 1;
              bytes += m.value?.length ?? 0;
            }
          }
          resolveOffset(batch.lastOffset());
          await heartbeat();
          if (Number(batch.lastOffset()) >= limit - 1 && pending.delete(batch.partition) && pending.size === 0) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
}
const seconds = (performance.now() - started) / 1000;
const joinSeconds = firstMessageAt === null ? null : (firstMessageAt - started) / 1000;
process.stdout.write(JSON.stringify({ messages, bytes, seconds, joinSeconds }) + '\n');
process.exit(0);
