import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';

export interface TopicReadOptions {
  /** Prefix of the throwaway consumer group (`<group>-<uuid>`): it commits nothing, so it never moves anyone's offsets. */
  readonly group: string;
  /** Start at the first message produced at or after this time (ms since the epoch); default: the beginning. */
  readonly fromTimestamp?: number;
  /** Most messages handed over at once, with a heartbeat between two; default: what one fetch brought. */
  readonly slice?: number;
  /** The consumer's fetch settings. */
  readonly fetch?: { readonly maxBytes?: number; readonly maxBytesPerPartition?: number; readonly maxWaitTimeInMs?: number };
  /** Retries of the admin client that reads the offsets (kafkajs's default when absent). */
  readonly adminRetries?: number;
  /** The read fails with a TopicReadError (`timeout`) when it takes longer. */
  readonly timeoutMs?: number;
  /** Called once a partition has been read up to the end it had when the read began. */
  readonly onPartitionEnd?: (partition: number) => void | Promise<void>;
  /** Called after every slice handed over. */
  readonly onProgress?: (progress: { readonly messages: number; readonly total: number }) => void;
}

/** Return 'stop' to end the read early (it then counts as truncated). */
export type OnTopicMessages = (messages: KafkaMessage[], partition: number) => 'stop' | undefined | Promise<'stop' | undefined>;

export interface TopicReadResult {
  /** Messages handed over. */
  readonly messages: number;
  /** Messages from the start to the end of every partition when the read began. */
  readonly total: number;
  /** True when the callback said stop before the end. */
  readonly truncated: boolean;
}

/** Kafka's offsets could not be read (`offsets`), or the read outlasted its time (`timeout`). */
export class TopicReadError extends Error {
  constructor(
    readonly stage: 'offsets' | 'timeout',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TopicReadError';
  }
}

interface PartitionRange {
  readonly low: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Reads a topic from its beginning (or from the offsets of a time) up to the end it had when the
 * read began, handing the messages of each partition over in slices. Every partition is read, so
 * the cost is the size of the topic from the start on. A failure of a callback ends the read (it
 * is thrown back); Kafka's own errors go to kafkajs, which retries.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  onMessages: OnTopicMessages,
  options: TopicReadOptions,
): Promise<TopicReadResult> {
  const plan = await planRead(kafka, topic, options);
  const total = [...plan.values()].reduce((n, p) => n + p.end - p.start, 0);
  const pending = new Set([...plan].filter(([, p]) => p.start < p.end).map(([partition]) => partition));
  let messages = 0;
  if (pending.size === 0) return { messages, total, truncated: false };

  const consumer = kafka.consumer({ groupId: `${options.group}-${randomUUID()}`, allowAutoTopicCreation: false, ...options.fetch });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    return await new Promise<TopicReadResult>((resolve, reject) => {
      let finished = false;
      // A callback may have ended the read while this batch awaited it.
      const ended = (): boolean => finished;
      const finish = (truncated: boolean): void => {
        finished = true;
        resolve({ messages, total, truncated });
      };
      const ours = <T>(fn: () => T | Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> =>
        Promise.resolve()
          .then(fn)
          .then(
            (value) => ({ ok: true as const, value }),
            (err: unknown) => {
              finished = true;
              reject(err instanceof Error ? err : new Error(String(err)));
              return { ok: false as const };
            },
          );
      if (options.timeoutMs !== undefined) {
        const ms = options.timeoutMs;
        timer = setTimeout(() => {
          finished = true;
          reject(new TopicReadError('timeout', `reading ${topic} did not finish within ${Math.round(ms / 1000)} s`));
        }, ms);
      }
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
            if (finished) return;
            const range = plan.get(batch.partition);
            if (!range) return;
            const wanted = batch.messages.filter((m) => Number(m.offset) >= range.start && Number(m.offset) < range.end);
            const size = options.slice ?? Math.max(1, wanted.length);
            for (let from = 0; from < wanted.length; from += size) {
              const slice = wanted.slice(from, from + size);
              const handed = await ours(() => onMessages(slice, batch.partition));
              if (!handed.ok || ended()) return;
              messages += slice.length;
              if (handed.value === 'stop') {
                finish(true);
                return;
              }
              options.onProgress?.({ messages, total });
              const last = slice.at(-1);
              if (last) resolveOffset(last.offset);
              await heartbeat();
            }
            resolveOffset(batch.lastOffset());
            await heartbeat();
            if (Number(batch.lastOffset()) >= range.end - 1 && pending.delete(batch.partition)) {
              if (!(await ours(() => options.onPartitionEnd?.(batch.partition))).ok) return;
              if (pending.size === 0) finish(false);
            }
          },
        })
        .catch(reject);
      // Documented kafkajs use: seek right after run(); a partition starting later skips what comes before.
      for (const [partition, range] of plan) {
        if (range.start > range.low && range.start < range.end) consumer.seek({ topic, partition, offset: String(range.start) });
      }
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}

/** Each partition's first offset, where the read starts, and the end it has now. */
async function planRead(kafka: Kafka, topic: string, options: TopicReadOptions): Promise<Map<number, PartitionRange>> {
  const admin: Admin = kafka.admin(options.adminRetries === undefined ? undefined : { retry: { retries: options.adminRetries } });
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    const from = options.fromTimestamp;
    const byTime = from === undefined ? undefined : await admin.fetchTopicOffsetsByTimestamp(topic, from);
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
    throw new TopicReadError('offsets', err instanceof Error ? err.message : String(err), { cause: err });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
