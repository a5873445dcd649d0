import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { ProblemError } from '@keyward/platform';

export interface TopicScan {
  readonly topic: string;
  /** Only messages with this key (a tenant id) are handed over; the others are only counted. */
  readonly key: string;
  /** Start at the first message produced at or after this time (ms since the epoch); default: the beginning. */
  readonly fromTimestamp?: number;
  /** Most items to read (all keys; see `weigh`); the scan stops there and says it was truncated. */
  readonly maxItems?: number;
  /** How many items a message counts for (a batch of records): 1 by default. */
  readonly weigh?: (message: KafkaMessage) => number;
  readonly timeoutMs?: number;
}

export interface TopicScanResult {
  /** Items read (messages, or what `weigh` counts), of every key. */
  readonly scanned: number;
  /** True when the scan stopped before the end it had when it began (limit, or the callback said stop). */
  readonly truncated: boolean;
}

/** Return 'stop' to end the scan early (it then counts as truncated). */
export type OnMessage = (message: KafkaMessage, partition: number) => 'stop' | undefined;

const unavailable = (detail: string): ProblemError =>
  new ProblemError(503, 'kafka-unavailable', 'Kafka unavailable', detail, {}, { 'retry-after': '5' });

/**
 * Reads a topic from the beginning (or from the offsets of a time) up to the end it had when the
 * scan began, handing over the messages of one key. Uses a throwaway consumer group that commits
 * nothing, so it never moves anyone's offsets; every partition is read (a key's partition is not
 * assumed), so the cost is the size of the topic from the start offset on: a bounded scan.
 */
export async function scanTopic(kafka: Kafka, scan: TopicScan, onMessage: OnMessage): Promise<TopicScanResult> {
  const plan = await planScan(kafka, scan);
  const pending = new Set([...plan].filter(([, p]) => p.start < p.end).map(([partition]) => partition));
  if (pending.size === 0) return { scanned: 0, truncated: false };
  const max = scan.maxItems ?? Number.MAX_SAFE_INTEGER;
  let scanned = 0;
  let finished: TopicScanResult | undefined;
  const consumer = kafka.consumer({
    groupId: `keyward-audit-${randomUUID()}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
    maxBytes: 16 * 1024 * 1024,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: scan.topic, fromBeginning: true });
    return await new Promise<TopicScanResult>((resolve, reject) => {
      const finish = (truncated: boolean): void => {
        finished ??= { scanned, truncated };
        resolve(finished);
      };
      timer = setTimeout(() => {
        reject(unavailable(`reading ${scan.topic} did not finish within ${Math.round((scan.timeoutMs ?? 60_000) / 1000)} s`));
      }, scan.timeoutMs ?? 60_000);
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
            if (finished) return;
            const range = plan.get(batch.partition);
            if (!range) return;
            for (const message of batch.messages) {
              const offset = Number(message.offset);
              if (offset < range.start) continue;
              if (offset >= range.end) break;
              scanned += scan.weigh ? scan.weigh(message) : 1;
              if ((message.key?.toString('utf8') === scan.key && onMessage(message, batch.partition) === 'stop') || scanned >= max) {
                finish(true);
                return;
              }
            }
            resolveOffset(batch.lastOffset());
            await heartbeat();
            if (Number(batch.lastOffset()) >= range.end - 1 && pending.delete(batch.partition) && pending.size === 0) finish(false);
          },
        })
        .catch(reject);
      // Documented kafkajs use: seek right after run(); a partition starting later skips what comes before.
      for (const [partition, range] of plan) {
        if (range.start > range.low && range.start < range.end)
          consumer.seek({ topic: scan.topic, partition, offset: String(range.start) });
      }
    });
  } catch (err: unknown) {
    if (err instanceof ProblemError) throw err;
    throw unavailable(`cannot read ${scan.topic}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}

interface PartitionRange {
  readonly low: number;
  readonly start: number;
  readonly end: number;
}

async function planScan(kafka: Kafka, scan: TopicScan): Promise<Map<number, PartitionRange>> {
  const admin = kafka.admin({ retry: { retries: 2 } });
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(scan.topic);
    const byTime = scan.fromTimestamp === undefined ? undefined : await admin.fetchTopicOffsetsByTimestamp(scan.topic, scan.fromTimestamp);
    return new Map(
      offsets.map((o) => {
        const low = Number(o.low);
        const end = Number(o.high);
        const at = byTime?.find((b) => b.partition === o.partition);
        const start = at === undefined ? low : Math.max(low, Number(at.offset) < 0 ? end : Number(at.offset));
        return [o.partition, { low, start, end }];
      }),
    );
  } catch (err: unknown) {
    throw unavailable(`cannot read the offsets of ${scan.topic}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
