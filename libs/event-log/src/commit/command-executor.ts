import { decide, evolveCommit, stamp, TenantLog, type DecisionContext, type KeywardCommand, type KeywardEvent } from '@keyward/domain';
import { BoundedCache, type CacheStats } from '../cache/bounded-cache';
import { GENESIS_HASH, sealCommit, type Commit } from './commit';
import { type CommitStore, ConcurrencyConflict } from './commit-store';
import type { TenantQuotas } from './tenant-quotas';
import { estimateLogBytes } from './tenant-log-bytes';
import type { TenantSnapshots } from './tenant-snapshots';

export interface Executed {
  /** The tenant's seq after the command: the new commit's, or the current one for a no-op. */
  readonly seq: number;
  readonly events: readonly KeywardEvent[];
  readonly log: TenantLog;
}

interface CachedLog {
  /** Replaced only while still empty (seq 0), by a restored snapshot. */
  log: TenantLog;
  headHash: string;
  /** The newest snapshot seq this process knows of for the tenant (0: none). */
  snapshotSeq: number;
  /** Serialises this process's commands per tenant; other processes are caught by the unique _id. */
  queue: Promise<unknown>;
  /** Commands and catch-ups queued or running: a busy log is never evicted. */
  busy: number;
}

export interface ExecutorLimits {
  /** Tenants whose folded log stays in memory; the least recently used idle ones beyond it are dropped (and reloaded on demand). */
  readonly maxCachedTenants?: number;
  /** Estimated bytes of the folded logs in memory (tenant-log-bytes.ts); the same eviction beyond it. */
  readonly maxCachedBytes?: number;
  /** Per-tenant quotas checked before each command is decided. */
  readonly quotas?: TenantQuotas;
}

/** How snapshots are used: none by default (unit specs, tools); key-api and kmip turn them on. */
export interface SnapshotSettings {
  readonly snapshots: TenantSnapshots;
  /** A snapshot is written once the log is this many commits past the newest one. */
  readonly everyCommits: number;
  /** Counts snapshot reads, uses, rejections and writes (for /metrics). */
  readonly observe?: (event: SnapshotEvent) => void;
  /** A snapshot that failed to load or write (it is only an optimisation: the log is folded from its commits). */
  readonly onError?: (err: unknown) => void;
}

export type SnapshotEvent =
  'restored' | 'written' | 'rejected-mac' | 'rejected-version' | 'rejected-malformed' | 'rejected-head' | 'failed';

/** Snapshot writes in flight at once in one process (each a JSON encoding and a deflate off the request path). */
const SNAPSHOT_WRITES_AT_ONCE = 2;

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
  /** The folded logs, least recently used first; a busy one (commands or catch-ups queued) is never evicted. */
  private readonly logs: BoundedCache<string, CachedLog>;
  private snapshotSettings: SnapshotSettings | undefined;
  /** Tenants with a snapshot write queued or running (at most one each). */
  private readonly snapshotting = new Set<string>();
  private snapshotWrites = 0;

  constructor(
    private readonly store: CommitStore,
    private readonly onCommitted: (commit: Commit) => Promise<void> | void = () => undefined,
    private readonly maxAttempts = 8,
    private readonly limits: ExecutorLimits = {},
  ) {
    this.logs = new BoundedCache<string, CachedLog>(
      { maxEntries: Math.max(1, limits.maxCachedTenants ?? Number.MAX_SAFE_INTEGER), maxBytes: limits.maxCachedBytes },
      { sizeOf: (cached) => estimateLogBytes(cached.log), evictable: (cached) => cached.busy === 0 },
    );
  }

  /**
   * Cold tenants start from their snapshot (verified) instead of their first commit, and a snapshot
   * is written whenever a log gets `everyCommits` past the newest one.
   */
  useSnapshots(settings: SnapshotSettings): void {
    this.snapshotSettings = settings;
  }

  execute(tenantId: string, command: KeywardCommand, ctx: DecisionContext, beforeAppend?: BeforeAppend): Promise<Executed> {
    return this.queued(tenantId, (cached) => this.attempt(tenantId, cached, command, ctx, beforeAppend));
  }

  /** The tenant's state as of the store right now (for reads that must see their own writes). */
  async current(tenantId: string): Promise<TenantLog> {
    // Catch-ups queue behind commands and each other: two loading the same commits at once would fold them twice.
    return this.queued(tenantId, async (cached) => {
      await this.catchUp(tenantId, cached);
      return cached.log;
    });
  }

  /** This process's copy of the tenant's log, without reading the store (it may be behind). */
  peek(tenantId: string): TenantLog | undefined {
    return this.logs.peek(tenantId)?.log;
  }

  /** As peek, for a request that uses the log: marks it most recently used, so the cache keeps what requests use. */
  held(tenantId: string): TenantLog | undefined {
    return this.logs.get(tenantId)?.log;
  }

  /** The seq and hash of the newest commit this process has folded for the tenant (no store read). */
  peekHead(tenantId: string): { readonly seq: number; readonly hash: string } | undefined {
    const cached = this.logs.peek(tenantId);
    return cached === undefined ? undefined : { seq: cached.log.seq, hash: cached.headHash };
  }

  /** How many tenants' logs are in memory. */
  get cachedTenants(): number {
    return this.logs.size;
  }

  /** Entries, estimated bytes, evictions and reloads of the log cache (for /metrics: observeCache). */
  cacheStats(): CacheStats {
    return this.logs.stats();
  }

  private queued<T>(tenantId: string, work: (cached: CachedLog) => Promise<T>): Promise<T> {
    const cached = this.cached(tenantId);
    cached.busy++;
    const run = cached.queue
      .then(() => work(cached))
      .finally(() => {
        cached.busy--;
        this.logs.resize(tenantId); // folded commits changed its size (a no-op when it was evicted meanwhile: never while busy)
      });
    cached.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The tenant's entry, marked most recently used; a new (or evicted) tenant starts empty and its
   * first catch-up reads its whole log from the store, so an evicted tenant misses no commit.
   * Making room drops the least recently used logs with nothing queued; busy logs stay, so the
   * bounds can be exceeded while more tenants than they allow have commands in flight.
   */
  private cached(tenantId: string): CachedLog {
    let cached = this.logs.get(tenantId);
    if (cached === undefined) {
      cached = { log: new TenantLog(tenantId), headHash: GENESIS_HASH, snapshotSeq: 0, queue: Promise.resolve(), busy: 0 };
      this.logs.set(tenantId, cached);
    }
    return cached;
  }

  /**
   * Folds what the store has beyond this process's copy. Usually nothing: one read by `_id` says
   * so (CommitStore.load starts with one read and widens its window while commits keep coming, so
   * a cold tenant costs a few reads in flight at a time, never a range query).
   */
  private async catchUp(tenantId: string, cached: CachedLog): Promise<void> {
    if (cached.log.seq === 0) await this.restoreSnapshot(tenantId, cached);
    for (const commit of await this.store.load(tenantId, cached.log.seq)) {
      if (commit.seq <= cached.log.seq) continue; // already folded (defensive: catch-ups are serialised)
      this.fold(tenantId, cached, commit);
    }
    this.maybeSnapshot(cached);
  }

  /**
   * Starts an empty log from the tenant's snapshot when there is a usable one: its MAC verifies, its
   * state version is this code's, and the store's commit at its seq has its head hash (a store
   * restored to an earlier point, or a forged seq, is caught here). Any doubt: fold from the first commit.
   */
  private async restoreSnapshot(tenantId: string, cached: CachedLog): Promise<void> {
    const settings = this.snapshotSettings;
    if (settings === undefined) return;
    try {
      const restored = await settings.snapshots.read(tenantId);
      if (restored === undefined) return;
      if (typeof restored === 'string') {
        settings.observe?.(`rejected-${restored}`);
        return;
      }
      const atSeq = await this.store.get(tenantId, restored.log.seq);
      if (atSeq === null || atSeq.hash !== restored.headHash) {
        settings.observe?.('rejected-head');
        return;
      }
      cached.log = restored.log;
      cached.headHash = restored.headHash;
      cached.snapshotSeq = restored.log.seq;
      settings.observe?.('restored');
    } catch (err: unknown) {
      settings.observe?.('failed');
      settings.onError?.(err);
    }
  }

  /** Queues a snapshot of the log as it is now when it is far enough past the newest one (off the request path). */
  private maybeSnapshot(cached: CachedLog): void {
    const settings = this.snapshotSettings;
    const { log } = cached;
    if (settings === undefined || log.seq - cached.snapshotSeq < settings.everyCommits) return;
    if (this.snapshotting.has(log.logId) || this.snapshotWrites >= SNAPSHOT_WRITES_AT_ONCE) return;
    this.snapshotting.add(log.logId);
    this.snapshotWrites++;
    const seq = log.seq;
    settings.snapshots
      .write(log, cached.headHash)
      .then((written) => {
        // Not again before another everyCommits (also when too large, or sealed).
        cached.snapshotSeq = Math.max(cached.snapshotSeq, seq);
        if (written) settings.observe?.('written');
      })
      .catch((err: unknown) => {
        // Not again before another everyCommits either: a store that refuses writes is not retried in a loop.
        cached.snapshotSeq = Math.max(cached.snapshotSeq, seq);
        settings.observe?.('failed');
        settings.onError?.(err);
      })
      .finally(() => {
        this.snapshotting.delete(log.logId);
        this.snapshotWrites--;
        // Commits folded while this write ran were skipped (one write per tenant at a time): catch up now.
        this.maybeSnapshot(cached);
      });
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
      this.limits.quotas?.admit(tenantId, command, cached.log);
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
      this.limits.quotas?.committed(tenantId);
      this.maybeSnapshot(cached);
      await this.onCommitted(commit);
      return { seq: commit.seq, events: commit.events, log: cached.log };
    }
  }

  private async landedAnyway(commit: Commit): Promise<boolean> {
    const stored = await this.store.get(commit.tenantId, commit.seq).catch(() => null);
    return stored?.hash === commit.hash;
  }
}
