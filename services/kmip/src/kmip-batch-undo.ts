import { decide, evolveCommit, stamp, type TenantLog, type DecisionContext, type KeywardCommand } from '@keyward/domain';
import type { BeforeAppend, Executed } from '@keyward/event-log';
import type { TenantLogs } from './kmip-tenant-reads';

interface Pending {
  readonly tenantId: string;
  readonly command: KeywardCommand;
  readonly ctx: DecisionContext;
}

/**
 * The reads and commands of a batch sent with Batch Error Continuation Option Undo: the batch is
 * decided before anything is committed. Each command is decided by the domain against a copy of the
 * tenant's log and folded into that copy (so later items see earlier ones: Create, then Activate,
 * then Encrypt), and kept; new key material is stored in the keystore at once, as for any command
 * (an unreferenced entry if the batch is undone: only committed material is ever read). If every
 * item succeeds, `commit` runs the kept commands for real, in order; if one fails, `discard` drops
 * them and nothing of the batch was ever in the log.
 */
export class SpeculativeReads implements TenantLogs {
  private readonly copies = new Map<string, TenantLog>();
  private readonly pending: Pending[] = [];

  constructor(private readonly inner: TenantLogs) {}

  current(tenantId: string): Promise<TenantLog> {
    const copy = this.copies.get(tenantId);
    return copy ? Promise.resolve(copy) : this.inner.current(tenantId);
  }

  fresh(tenantId: string): Promise<TenantLog> {
    const copy = this.copies.get(tenantId);
    if (copy) return Promise.resolve(copy);
    return this.inner.fresh ? this.inner.fresh(tenantId) : this.inner.current(tenantId);
  }

  async execute(tenantId: string, command: KeywardCommand, ctx: DecisionContext, beforeAppend?: BeforeAppend): Promise<Executed> {
    const copy = this.copies.get(tenantId) ?? (await this.fresh(tenantId)).copy();
    const events = stamp(decide(command, copy, ctx), ctx);
    await beforeAppend?.(events);
    if (events.length > 0) evolveCommit(copy, { seq: copy.seq + 1, events });
    this.copies.set(tenantId, copy);
    this.pending.push({ tenantId, command, ctx });
    return { seq: copy.seq, events, log: copy };
  }

  /** Whether the batch changed anything so far. */
  get changed(): boolean {
    return this.pending.length > 0;
  }

  /** Commits the kept commands in order (each decided again on the real log); throws at the first refusal. */
  async commit(): Promise<void> {
    for (const { tenantId, command, ctx } of this.pending.splice(0)) await this.inner.execute(tenantId, command, ctx);
    this.copies.clear();
  }

  discard(): void {
    this.pending.length = 0;
    this.copies.clear();
  }
}
