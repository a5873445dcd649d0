import type { Commit } from '../commit/commit';
import { toCommit } from '../commit/commit';

/** The Kafka form of a commit: key = tenant id (per-tenant order), value = the commit as JSON. */
export function toMessage(commit: Commit): { key: string; value: string; headers: Record<string, string> } {
  return {
    key: commit.tenantId,
    value: JSON.stringify(toCommit(commit)),
    headers: { 'keyward-kind': 'commit', 'keyward-seq': String(commit.seq) },
  };
}

/**
 * Parses a message value back into a commit; throws on anything that is not one. The result is
 * only a claim: verifyCommitMessages (commit-verification.ts) decides whether it is a real commit.
 */
export function fromMessage(value: Buffer | null): Commit {
  if (value === null) throw new Error('empty message');
  const parsed = JSON.parse(value.toString('utf8')) as Partial<Commit>;
  if (
    typeof parsed.tenantId !== 'string' ||
    parsed.tenantId === '' ||
    typeof parsed.seq !== 'number' ||
    !Number.isSafeInteger(parsed.seq) ||
    parsed.seq < 1 ||
    !Array.isArray(parsed.events) ||
    typeof parsed.hash !== 'string'
  ) {
    throw new Error('message is not a commit');
  }
  return parsed as Commit;
}
