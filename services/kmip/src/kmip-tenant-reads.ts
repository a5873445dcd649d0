import type { TenantLog } from '@keyward/domain';
import type { CommandExecutor } from '@keyward/event-log';

/**
 * What the operations need of the executor: read a tenant's log, run a command, and (optionally)
 * read the log caught up with the store, for a refusal to be confirmed before it is answered.
 */
export type TenantLogs = Pick<CommandExecutor, 'current' | 'execute'> & { fresh?(tenantId: string): Promise<TenantLog> };

/**
 * Decides on the tenant's log as held; when that refuses (throws), decides once more on the log
 * caught up with the store. So a change made elsewhere that allows something (a key created or
 * export enabled over REST, a certificate bound) applies at once, while a steady-state request that
 * is allowed reads nothing; one that takes something away applies when keyward.events carries it.
 */
export async function decideFresh<T>(reads: TenantLogs, tenantId: string, decide: (log: TenantLog) => T): Promise<T> {
  const held = await reads.current(tenantId);
  const heldSeq = held.seq; // the log object is folded in place: keep the seq decided on
  try {
    return decide(held);
  } catch (err: unknown) {
    if (reads.fresh === undefined) throw err;
    const fresh = await reads.fresh(tenantId);
    if (fresh.seq === heldSeq) throw err; // nothing new: the same answer
    return decide(fresh);
  }
}

/** Where a tenant's current log comes from (libs/keys' KeyStateSource: no store read while keyward.events says nothing changed). */
export type LogSource = (tenantId: string) => Promise<TenantLog>;

interface Reads {
  running: Promise<TenantLog> | undefined;
  queued: Promise<TenantLog> | undefined;
}

/**
 * Coalesces reads of a tenant's log: a caller that arrives while a read is running joins the next
 * read, which starts after that one ends and so after the caller arrived. The reads go to `source`
 * (in the service: libs/keys' KeyStateSource, which answers from this process's copy of the log
 * until keyward.events carries a newer commit of the tenant, so a steady-state request reads
 * nothing from the store); without one, each read catches the log up from the store.
 */
export class CoalescedReads implements TenantLogs {
  private readonly reads = new Map<string, Reads>();

  private readonly source: LogSource;

  constructor(
    private readonly executor: CommandExecutor,
    source?: LogSource,
  ) {
    this.source = source ?? ((tenantId) => executor.current(tenantId));
  }

  current(tenantId: string): Promise<TenantLog> {
    let reads = this.reads.get(tenantId);
    if (reads === undefined) {
      reads = { running: undefined, queued: undefined };
      this.reads.set(tenantId, reads);
    }
    const running = reads.running;
    if (running === undefined) return this.start(tenantId, reads);
    const state = reads;
    state.queued ??= running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        state.queued = undefined;
        return this.start(tenantId, state);
      });
    return state.queued;
  }

  execute(...args: Parameters<CommandExecutor['execute']>): ReturnType<CommandExecutor['execute']> {
    return this.executor.execute(...args);
  }

  /** The log caught up with the store now (one read by `_id` when nothing is new). */
  fresh(tenantId: string): Promise<TenantLog> {
    return this.executor.current(tenantId);
  }

  private start(tenantId: string, reads: Reads): Promise<TenantLog> {
    const read: Promise<TenantLog> = this.source(tenantId).finally(() => {
      if (reads.running === read) reads.running = undefined;
      // Nothing running or queued: forget the tenant, so the map holds only tenants being read.
      if (reads.running === undefined && reads.queued === undefined && this.reads.get(tenantId) === reads) this.reads.delete(tenantId);
    });
    reads.running = read;
    return read;
  }
}

/**
 * The reads of one request message: the tenant's log is caught up once (authentication and the
 * first operation share it), and again only after a command of this message changed it.
 */
export class MessageReads implements TenantLogs {
  private readonly read = new Map<string, Promise<TenantLog>>();
  /** Tenants this message has caught up with the store already (at most once each). */
  private readonly caughtUp = new Set<string>();

  constructor(private readonly inner: TenantLogs) {}

  /** The log caught up with the store, once per tenant and message (later calls answer the current read). */
  fresh(tenantId: string): Promise<TenantLog> {
    if (this.inner.fresh === undefined || this.caughtUp.has(tenantId)) return this.current(tenantId);
    this.caughtUp.add(tenantId);
    const log = this.inner.fresh(tenantId);
    this.read.set(tenantId, log);
    log.catch(() => this.read.delete(tenantId));
    return log;
  }

  current(tenantId: string): Promise<TenantLog> {
    let log = this.read.get(tenantId);
    if (log === undefined) {
      log = this.inner.current(tenantId);
      this.read.set(tenantId, log);
      log.catch(() => this.read.delete(tenantId));
    }
    return log;
  }

  execute(...args: Parameters<CommandExecutor['execute']>): ReturnType<CommandExecutor['execute']> {
    this.read.delete(args[0]);
    return this.inner.execute(...args);
  }
}
