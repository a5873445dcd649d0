import { Counter, type Registry } from 'prom-client';
import { describeRejected, type CommitRejection, type RejectedCommit } from './commit-verification';

export const FORGED_COMMITS_METRIC = 'keyward_forged_commits_total';

/** Where a consumer's security warnings go (Nest's Logger in the services). */
export interface SecurityLog {
  warn(message: string): void;
}

/**
 * Counts and logs the commit messages a consumer refused (see commit-verification.ts): the metric
 * `keyward_forged_commits_total{consumer,reason}` and one security warning per batch that names
 * tenant ids and seqs only, never what the messages carried.
 */
export class ForgedCommits {
  private readonly counter: Counter<'consumer' | 'reason'>;

  constructor(
    registry: Registry,
    private readonly consumer: string,
    private readonly log: SecurityLog,
  ) {
    const existing = registry.getSingleMetric(FORGED_COMMITS_METRIC);
    this.counter =
      (existing as Counter<'consumer' | 'reason'> | undefined) ??
      new Counter({
        name: FORGED_COMMITS_METRIC,
        help: 'Messages of keyward.events a consumer refused to act on because they do not match the commit store',
        labelNames: ['consumer', 'reason'],
        registers: [registry],
      });
  }

  report(rejected: readonly RejectedCommit[]): void {
    if (rejected.length === 0) return;
    const byReason = new Map<CommitRejection, number>();
    for (const r of rejected) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
    for (const [reason, n] of byReason) this.counter.inc({ consumer: this.consumer, reason }, n);
    const named = rejected.slice(0, 10).map(describeRejected).join(', ');
    const more = rejected.length > 10 ? ` and ${rejected.length - 10} more` : '';
    this.log.warn(
      `SECURITY: ${rejected.length} message(s) of the event topic do not match the commit store and were ignored: ${named}${more}`,
    );
  }

  /** A message that is not a commit at all (its content is not logged). */
  malformed(where: string): void {
    this.counter.inc({ consumer: this.consumer, reason: 'malformed' });
    this.log.warn(`SECURITY: a message of the event topic is not a commit and was ignored (${where})`);
  }
}
