import { evolveCommit, TenantLog } from '@keyward/domain';
import { GENESIS_HASH, type Commit } from '../commit/commit';

/**
 * Rebuilds a tenant's state as it was at an instant, with the same `evolveCommit` the write side
 * and the projector use, on a fresh TenantLog. The state at `at` is the longest prefix of the chain
 * whose commits were all committed at or before `at`: the log is ordered by seq, so a commit with a
 * later timestamp ends the prefix even if a clock-skewed successor claims an earlier one.
 */
export class PointInTimeReplay {
  readonly log: TenantLog;
  private readonly until: number;
  private ended = false;
  private hash = GENESIS_HASH;
  private committedAt: string | null = null;

  constructor(tenantId: string, at: Date | string) {
    this.log = new TenantLog(tenantId);
    this.until = typeof at === 'string' ? Date.parse(at) : at.getTime();
    if (Number.isNaN(this.until)) throw new RangeError(`not an instant: ${String(at)}`);
  }

  /** Folds the commit if it belongs to the state at the instant; false once the prefix has ended. */
  accept(commit: Commit): boolean {
    if (this.ended) return false;
    if (Date.parse(commit.committedAt) > this.until) {
      this.ended = true;
      return false;
    }
    evolveCommit(this.log, commit);
    this.hash = commit.hash;
    this.committedAt = commit.committedAt;
    return true;
  }

  /** True once a commit after the instant was seen: no later commit can belong to the state. */
  get done(): boolean {
    return this.ended;
  }

  /** The last commit folded in: its seq (0 for none), hash and time. */
  get head(): { readonly seq: number; readonly hash: string; readonly committedAt: string | null } {
    return { seq: this.log.seq, hash: this.hash, committedAt: this.committedAt };
  }
}
