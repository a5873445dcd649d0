import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { fromMessage, verifyCommitMessages, type Commit, type CommitLookup, type RejectedCommit } from '@keyward/event-log';

/** Commits handed over at once during a replay. */
const REPLAY_SLICE = 2_000;

/**
 * Fetch sizes of the replay reader. A partition may fill a whole fetch, so the broker hands over
 * partitions one after another rather than a megabyte of each in turn: the first partitions end
 * early, and what depends only on them (their tenants' views) can be written while the others are
 * still being read. The benchmark's bare consumer reads with the same settings.
 */
export const REPLAY_FETCH = { maxBytes: 16 * 1024 * 1024, maxBytesPerPartition: 16 * 1024 * 1024 } as const;

export interface ReplayProgress {
  readonly messages: number;
  readonly total: number;
}

export interface ReplayOptions {
  /** Called once a partition has been read up to the end it had when the replay began. */
  readonly onPartitionEnd?: (partition: number) => void;
  /**
   * The commit store the topic is checked against (see commit-verification.ts): each slice is
   * verified with one lookup and the store's commits are handed over; messages that do not match
   * go to onRejected instead. Without it, the topic's commits are handed over as they are (for
   * readers that check the chain themselves or have no store, like a restore of a lost log).
   */
  readonly verifyWith?: CommitLookup;
  readonly onRejected?: (rejected: readonly RejectedCommit[]) => void;
}

/**
 * Reads a topic from offset 0 up to the end it had when the replay began, handing commits over
 * in batches (with the partition they come from). Uses a throwaway consumer group, so it never
 * moves the live projector's offsets.
 */
export async function replayTopic(
  kafka: Kafka,
  topic: string,
  onCommits: (commits: Commit[], partition: number) => Promise<void>,
  onProgress: (p: ReplayProgress) => void = () => undefined,
  options: ReplayOptions = {},
): Promise<ReplayProgress> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const end = new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
  const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  const pending = new Set(offsets.filter((o) => Number(o.high) > Number(o.low)).map((o) => o.partition));
  let messages = 0;
  if (pending.size === 0) return { messages, total };

  const consumer = kafka.consumer({ groupId: `keyward-replay-${randomUUID()}`, allowAutoTopicCreation: false, ...REPLAY_FETCH });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      // A failure of ours (a malformed message, the callbacks) ends the replay: thrown back to
      // kafkajs, it would retry the batch and restart the consumer again and again. Kafka's own
      // errors (a heartbeat during a rebalance) still go to kafkajs, which retries.
      let failed = false;
      const ours = (fn: () => void | Promise<void>): Promise<boolean> =>
        Promise.resolve()
          .then(fn)
          .then(
            () => true,
            (err: unknown) => {
              failed = true;
              reject(err instanceof Error ? err : new Error(String(err)));
              return false;
            },
          );
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
            if (failed) return;
            const limit = end.get(batch.partition)?.high ?? 0;
            const wanted = batch.messages.filter((m) => Number(m.offset) < limit);
            // Slices with a heartbeat between them: a big batch on a slow store must not outlast the session.
            for (let from = 0; from < wanted.length; from += REPLAY_SLICE) {
              const slice = wanted.slice(from, from + REPLAY_SLICE);
              const ok = await ours(async () => {
                if (options.verifyWith === undefined)
                  return onCommits(
                    slice.map((m) => fromMessage(m.value)),
                    batch.partition,
                  );
                const claimed: Commit[] = [];
                const malformed: RejectedCommit[] = [];
                for (const m of slice) {
                  try {
                    claimed.push(fromMessage(m.value));
                  } catch {
                    malformed.push({ tenantId: '', seq: 0, reason: 'malformed' });
                  }
                }
                const { verified, rejected } = await verifyCommitMessages(options.verifyWith, claimed);
                if (rejected.length + malformed.length > 0) options.onRejected?.([...malformed, ...rejected]);
                return onCommits([...verified], batch.partition);
              });
              if (!ok) return;
              messages += slice.length;
              onProgress({ messages, total });
              const last = slice.at(-1);
              if (last) resolveOffset(last.offset);
              await heartbeat();
            }
            resolveOffset(batch.lastOffset());
            await heartbeat();
            if (Number(batch.lastOffset()) >= limit - 1 && pending.delete(batch.partition)) {
              if (!(await ours(() => options.onPartitionEnd?.(batch.partition)))) return;
              if (pending.size === 0) resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return { messages, total };
}
