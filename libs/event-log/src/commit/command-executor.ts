import { decide, evolveCommit, stamp, TenantLog, type DecisionContext, type KeywardCommand, type KeywardEvent } from '@keyward/domain';
import { GENESIS_HASH, sealCommit, type Commit } from './commit';
import { type CommitStore, ConcurrencyConflict } from './commit-store';

export interface Executed {
  /** The tenant's seq after the command: the new commit's, or the current one for a no-op. */
  readonly seq: number;
  readonly events: readonly KeywardEvent[];
  readonly log: TenantLog;
}

/** Reads by `_id` a catch-up makes before it reads the rest of the log in one range query. */
const PROBES_BEFORE_RANGE_READ = 4;

interface CachedLog {
  readonly log: TenantLog;
  headHash: string;
  /** Serialises this process's commands per tenant; other processes are caught by the unique _id. */
  queue: Promise<unknown>;
}

/**
 * Work that must be durable before a commit is stored (for example wrapped key material for the
 * version the commit creates). Runs once per attempt with the events about to be appended.
 */
export type BeforeAppend = (events: readonly KeywardEvent[]) => Promise<void>;

/**
 * Runs commands against per-tenant logs: catch up from the store, decide, append one commit,
 * fold it in. A conflicting writer means reload and decide again, a bounded number of times.
 */
export class CommandExecutor {
  private readonly logs = new Map<string, CachedLog>();

  constructor(
    private readonly store: CommitStore,
    private readonly onCommitted: (commit: Commit) => Promise<void> | void = () => undefined,
    private readonly maxAttempts = 8,
  ) {}

  execute(tenantId: string, command: KeywardCommand, ctx: DecisionContext, beforeAppend?: BeforeAppend): Promise<Executed> {
    const cached = this.cached(tenantId);
    const run = cached.queue.then(() => this.attempt(tenantId, cached, command, ctx, beforeAppend));
    cached.queue = run.catch(() => undefined);
    return run;
  }

  /** The tenant's state as of the store right now (for reads that must see their own writes). */
  async current(tenantId: string): Promise<TenantLog> {
    const cached = this.cached(tenantId);
    // Catch-ups queue behind commands and each other: two loading the same commits at once would fold them twice.
    const run = cached.queue.then(() => this.catchUp(tenantId, cached));
    cached.queue = run.catch(() => undefined);
    await run;
    return cached.log;
  }

  /** This process's copy of the tenant's log, without reading the store (it may be behind). */
  peek(tenantId: string): TenantLog | undefined {
    return this.logs.get(tenantId)?.log;
  }

  /** The seq and hash of the newest commit this process has folded for the tenant (no store read). */
  peekHead(tenantId: string): { readonly seq: number; readonly hash: string } | undefined {
    const cached = this.logs.get(tenantId);
    return cached === undefined ? undefined : { seq: cached.log.seq, hash: cached.headHash };
  }

  private cached(tenantId: string): CachedLog {
    let cached = this.logs.get(tenantId);
    if (!cached) {
      cached = { log: new TenantLog(tenantId), headHash: GENESIS_HASH, queue: Promise.resolve() };
      this.logs.set(tenantId, cached);
    }
    return cached;
  }

  /**
   * Folds what the store has beyond this process's copy. Usually nothing: one read by `_id` says
   * so (the cheapest read on MongoDB and the only indexed one on FerretDB's SQLite backend, where
   * a range query scans the whole collection). A few more such reads follow other writers'
   * commits; a longer run (a cold tenant) is one range read.
   */
  private async catchUp(tenantId: string, cached: CachedLog): Promise<void> {
    for (let probe = 0; probe < PROBES_BEFORE_RANGE_READ; probe++) {
      const next = await this.store.get(tenantId, cached.log.seq + 1);
      if (!next) return;
      this.fold(tenantId, cached, next);
    }
    for (const commit of await this.store.load(tenantId, cached.log.seq)) {
      if (commit.seq <= cached.log.seq) continue; // already folded (defensive: catch-ups are serialised)
      this.fold(tenantId, cached, commit);
    }
  }

  private fold(tenantId: string, cached: CachedLog, commit: Commit): void {
    if (commit.seq !== cached.log.seq + 1 || commit.prevHash !== cached.headHash) {
      throw new Error(`commit log of ${tenantId} is inconsistent at seq ${commit.seq}; run audit verify`);
    }
    evolveCommit(cached.log, commit);
    cached.headHash = commit.hash;
  }

  private async attempt(
    tenantId: string,
    cached: CachedLog,
    command: KeywardCommand,
    ctx: DecisionContext,
    beforeAppend: BeforeAppend | undefined,
  ): Promise<Executed> {
    for (let attempt = 1; ; attempt++) {
      await this.catchUp(tenantId, cached);
      const bodies = decide(command, cached.log, ctx);
      if (bodies.length === 0) return { seq: cached.log.seq, events: [], log: cached.log };
      const commit = sealCommit({
        tenantId,
        seq: cached.log.seq + 1,
        commandId: ctx.correlationId,
        events: stamp(bodies, ctx),
        committedAt: ctx.now.toISOString(),
        prevHash: cached.headHash,
      });
      await beforeAppend?.(commit.events);
      try {
        await this.store.append(commit);
      } catch (err: unknown) {
        if (err instanceof ConcurrencyConflict && attempt < this.maxAttempts) continue;
        if (!(err instanceof ConcurrencyConflict) && (await this.landedAnyway(commit))) {
          // The write reached the store although the answer was lost.
        } else {
          throw err;
        }
      }
      evolveCommit(cached.log, commit);
      cached.headHash = commit.hash;
      await this.onCommitted(commit);
      return { seq: commit.seq, events: commit.events, log: cached.log };
    }
  }

  private async landedAnyway(commit: Commit): Promise<boolean> {
    const stored = await this.store.get(commit.tenantId, commit.seq).catch(() => null);
    return stored?.hash === commit.hash;
  }
}
