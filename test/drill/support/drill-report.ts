import type { AckedCommand, Failure } from './drill-load';

/** What one fault cost: the span of failed requests around it, and acknowledged commands lost or doubled. */
export interface FaultOutcome {
  readonly fault: string;
  /** Seconds from the first to the last failed request of the phase; 0 when none failed. */
  readonly windowSeconds: number;
  readonly failedRequests: number;
  readonly acknowledged: number;
  readonly lost: number;
  readonly duplicated: number;
  /** Longest time an acknowledged command of the phase took to reach the topic (seconds). */
  readonly publishSeconds: number;
}

/** The outcome of the phase `fault`, given the acknowledged commands that are missing or doubled. */
export function outcomeOf(
  fault: string,
  failures: readonly Failure[],
  commands: readonly AckedCommand[],
  isLost: (c: AckedCommand) => boolean,
  isDuplicated: (c: AckedCommand) => boolean,
  publishedAt: (c: AckedCommand) => number | undefined,
): FaultOutcome {
  const failed = failures.filter((f) => f.phase === fault);
  const acked = commands.filter((c) => c.phase === fault);
  const delays = acked.map((c) => (publishedAt(c) ?? c.at) - c.at);
  return {
    fault,
    windowSeconds: failed.length === 0 ? 0 : (failed.at(-1)!.at - failed[0]!.at) / 1000,
    failedRequests: failed.length,
    acknowledged: acked.length,
    lost: acked.filter(isLost).length,
    duplicated: acked.filter(isDuplicated).length,
    publishSeconds: Math.max(0, ...delays) / 1000,
  };
}

export function table(outcomes: readonly FaultOutcome[]): string {
  const rows = [
    ['fault', 'window (s)', 'failed requests', 'acknowledged', 'lost', 'duplicated', 'to topic, max (s)'],
    ...outcomes.map((o) => [
      o.fault,
      o.windowSeconds.toFixed(1),
      String(o.failedRequests),
      String(o.acknowledged),
      String(o.lost),
      String(o.duplicated),
      o.publishSeconds.toFixed(1),
    ]),
  ];
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}
