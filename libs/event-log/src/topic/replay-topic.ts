import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Commit } from '../commit/commit';
import { fromMessage } from '../relay/commit-message';
import { verifyCommitMessages, type CommitLookup, type RejectedCommit } from '../relay/commit-verification';
import { readTopic } from './read-topic';

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
 * Reads the event topic from offset 0 up to the end it had when the replay began, handing commits
 * over in batches (with the partition they come from). Uses a throwaway consumer group, so it
 * never moves the live projector's offsets.
 */
export async function replayTopic(
  kafka: Kafka,
  topic: string,
  onCommits: (commits: Commit[], partition: number) => Promise<void>,
  onProgress: (p: ReplayProgress) => void = () => undefined,
  options: ReplayOptions = {},
): Promise<ReplayProgress> {
  const { messages, total } = await readTopic(
    kafka,
    topic,
    async (slice, partition) => {
      await onCommits(await commitsOf(slice, options), partition);
      return undefined;
    },
    {
      group: 'keyward-replay',
      slice: REPLAY_SLICE,
      fetch: REPLAY_FETCH,
      onProgress,
      ...(options.onPartitionEnd ? { onPartitionEnd: options.onPartitionEnd } : {}),
    },
  );
  return { messages, total };
}

/** The slice's commits: as the topic holds them, or, with `verifyWith`, the store's commits they name. */
async function commitsOf(slice: readonly KafkaMessage[], options: ReplayOptions): Promise<Commit[]> {
  if (options.verifyWith === undefined) return slice.map((m) => fromMessage(m.value));
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
  return [...verified];
}
