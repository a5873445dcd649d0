import type { Kafka } from 'kafkajs';
import type { Commit } from '../commit/commit';
import type { CommitStore } from '../commit/commit-store';
import { isSealed, TenantChains } from '../commit/hash-chain';
import { markDueComplete } from '../projection/due-backfill';
import { Projector } from '../projection/projector';
import type { ViewCollections } from '../projection/views';
import type { RejectedCommit } from '../relay/commit-verification';
import { replayTopic, type ReplayProgress } from '../topic/replay-topic';
import { MemoryRebuild, type MemoryRebuildResult, type ReplayChainProblem } from './memory-rebuild';

export interface RebuildViewsOptions {
  readonly kafka: Kafka;
  /** The event topic, read from offset 0 to the end it has when the rebuild begins. */
  readonly topic: string;
  /** The live commit store: gaps of the topic are filled from it (and, with `verify`, messages checked against it). */
  readonly store: CommitStore;
  /** The (emptied) views to write: the live ones, or a scratch database's. */
  readonly target: ViewCollections;
  /**
   * `memory` (default): each tenant folded in memory and its documents written once, in bulk
   * (MemoryRebuild). `incremental`: the live projector's apply, batch by batch.
   */
  readonly mode?: 'memory' | 'incremental';
  /** Fold only the messages the commit store backs; the others are reported as forged. */
  readonly verify?: boolean;
  readonly onProgress?: (progress: ReplayProgress & { readonly events: number }) => void;
}

export interface RebuildViewsResult {
  /** Messages read from the topic. */
  readonly messages: number;
  /** Events of the commits folded. */
  readonly events: number;
  /** Commits that do not hash to their hash or do not point at their predecessor's. */
  readonly chainProblems: readonly ReplayChainProblem[];
  /** Messages the commit store does not back (with `verify`): left out. */
  readonly forged: readonly RejectedCommit[];
  /** Seconds until the last partition was read to its end. */
  readonly readSeconds: number;
  /** The in-memory fold's account (mode `memory`). */
  readonly memory?: MemoryRebuildResult;
}

/**
 * Rebuilds views from the event topic: the one rebuild path of `npm run projector:rebuild` and the
 * CLI's replay. Every commit folded is checked against its tenant's chain; a problem does not stop
 * the rebuild (the views need a consistent log, not a trusted one): it is answered, and the callers
 * fail on it.
 */
export async function rebuildViews(options: RebuildViewsOptions): Promise<RebuildViewsResult> {
  const started = performance.now();
  const memory = options.mode === 'incremental' ? undefined : new MemoryRebuild(options.target, options.store);
  const incremental = memory ? undefined : new IncrementalRebuild(new Projector(options.target, options.store));
  const forged: RejectedCommit[] = [];
  let events = 0;
  let readSeconds = 0;
  const progress = await replayTopic(
    options.kafka,
    options.topic,
    async (commits, partition) => {
      if (memory) {
        await memory.apply(commits, partition);
        events = memory.events;
      } else if (incremental) {
        events += await incremental.apply(commits);
      }
    },
    (p) => options.onProgress?.({ ...p, events }),
    {
      onPartitionEnd: (partition) => {
        readSeconds = (performance.now() - started) / 1000;
        memory?.partitionDone(partition);
      },
      ...(options.verify ? { verifyWith: options.store, onRejected: (rejected) => forged.push(...rejected) } : {}),
    },
  );
  readSeconds ||= (performance.now() - started) / 1000;
  const summary = memory ? await memory.finish() : undefined;
  // Every key with a pending date now has its document: the scheduler may read view_due alone.
  await markDueComplete(options.target);
  return {
    messages: progress.messages,
    events,
    chainProblems: summary?.chainProblems ?? incremental?.chainProblems ?? [],
    forged,
    readSeconds,
    ...(summary ? { memory: summary } : {}),
  };
}

/** The live projector's apply, with the chain checks it does not make itself. */
export class IncrementalRebuild {
  private readonly chains = new TenantChains();
  readonly chainProblems: ReplayChainProblem[] = [];

  constructor(private readonly projector: Pick<Projector, 'apply'>) {}

  /** Applies the commits; answers the events they carry. */
  async apply(commits: readonly Commit[]): Promise<number> {
    let events = 0;
    for (const commit of commits) {
      events += commit.events.length;
      if (commit.seq <= this.chains.head(commit.tenantId).seq) continue; // a duplicate
      const broken = this.chains.check(commit);
      // After a gap (which the projector fills from the store) only the hash can be checked.
      const problem = broken === 'gap' ? (isSealed(commit) ? undefined : 'hash-mismatch') : broken;
      if (problem !== undefined) this.chainProblems.push({ tenantId: commit.tenantId, seq: commit.seq, problem });
      this.chains.advance(commit);
    }
    await this.projector.apply(commits);
    return events;
  }
}
