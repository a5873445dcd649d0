import type { Kafka, KafkaMessage } from 'kafkajs';
import { readTopic, TopicReadError } from '@keyward/event-log';
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
 * scan began, handing over the messages of one key (readTopic: a throwaway consumer group that
 * commits nothing, every partition read), so the cost is the size of the topic from the start
 * offset on: a bounded scan. Kafka failing answers 503.
 */
export async function scanTopic(kafka: Kafka, scan: TopicScan, onMessage: OnMessage): Promise<TopicScanResult> {
  const max = scan.maxItems ?? Number.MAX_SAFE_INTEGER;
  const timeoutMs = scan.timeoutMs ?? 60_000;
  let scanned = 0;
  try {
    const { truncated } = await readTopic(
      kafka,
      scan.topic,
      (messages, partition) => {
        for (const message of messages) {
          scanned += scan.weigh ? scan.weigh(message) : 1;
          if ((message.key?.toString('utf8') === scan.key && onMessage(message, partition) === 'stop') || scanned >= max) return 'stop';
        }
        return undefined;
      },
      {
        group: 'keyward-audit',
        ...(scan.fromTimestamp === undefined ? {} : { fromTimestamp: scan.fromTimestamp }),
        fetch: { maxWaitTimeInMs: 200, maxBytes: 16 * 1024 * 1024 },
        adminRetries: 2,
        timeoutMs,
      },
    );
    return { scanned, truncated };
  } catch (err: unknown) {
    if (err instanceof ProblemError) throw err;
    if (err instanceof TopicReadError && err.stage === 'offsets')
      throw unavailable(`cannot read the offsets of ${scan.topic}: ${err.message}`);
    if (err instanceof TopicReadError) throw unavailable(err.message);
    throw unavailable(`cannot read ${scan.topic}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
