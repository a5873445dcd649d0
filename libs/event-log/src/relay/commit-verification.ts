import type { Commit, CommitDocument } from '../commit/commit';
import { commitId, toCommit } from '../commit/commit';
import { isSealed } from '../commit/hash-chain';

/**
 * What verifies a commit message read from keyward.events, the one rule every consumer uses.
 *
 * Anyone who can write to the topic can publish a message that parses as a commit, and the
 * commit hash is an unkeyed SHA-256: a message proves nothing by itself. The commit store is
 * authoritative. A message counts only when the store holds the commit of the same
 * `(tenantId, seq)`, that stored commit still hashes to its own hash, and the message carries that
 * very hash. What a consumer then applies is the store's commit, never the message's content.
 */
export type CommitRejection =
  /** The message is not a commit at all. */
  | 'malformed'
  /** The store has no commit at this (tenantId, seq): invented, or beyond the tenant's head. */
  | 'not-in-store'
  /** The store's commit at this (tenantId, seq) has another hash: altered or replaced. */
  | 'hash-differs'
  /** The message does not hash to the hash it carries (altered in transit or forged). */
  | 'hash-does-not-recompute'
  /** The store's own commit does not hash to its hash: the store was altered; nothing is applied. */
  | 'stored-hash-does-not-recompute';

export interface RejectedCommit {
  readonly tenantId: string;
  readonly seq: number;
  readonly reason: CommitRejection;
}

export interface VerifiedCommits {
  /** The store's commits, in the order of the messages that named them. */
  readonly verified: readonly Commit[];
  readonly rejected: readonly RejectedCommit[];
}

/**
 * Checks one commit message against the store's commit of the same (tenantId, seq), or `null`
 * when the store has none. Undefined: the message is the store's commit.
 */
export function checkCommitMessage(claimed: Commit, stored: Commit | null): CommitRejection | undefined {
  if (stored === null || stored.tenantId !== claimed.tenantId || stored.seq !== claimed.seq) return 'not-in-store';
  if (!isSealed(stored)) return 'stored-hash-does-not-recompute';
  return checkClaimedHash(claimed, stored.hash);
}

/**
 * The same check when the caller already holds the (verified) hash the store has at the message's
 * (tenantId, seq), or knows the store has no commit there (`undefined`).
 */
export function checkClaimedHash(claimed: Commit, storedHash: string | undefined): CommitRejection | undefined {
  if (storedHash === undefined) return 'not-in-store';
  if (claimed.hash !== storedHash) return 'hash-differs';
  if (!isSealed(claimed)) return 'hash-does-not-recompute';
  return undefined;
}

/** Reads stored commits by `_id` (CommitStore.getMany in production). */
export interface CommitLookup {
  getMany(ids: readonly string[]): Promise<readonly CommitDocument[]>;
}

/**
 * Verifies a batch of commit messages with one lookup of their distinct ids (CommitStore.getMany:
 * indexed reads by `_id`), and answers the store's commits for those that match.
 */
export async function verifyCommitMessages(store: CommitLookup, claimed: readonly Commit[]): Promise<VerifiedCommits> {
  if (claimed.length === 0) return { verified: [], rejected: [] };
  const ids = [...new Set(claimed.map((c) => commitId(c.tenantId, c.seq)))];
  const stored = new Map((await store.getMany(ids)).map((doc) => [doc._id, toCommit(doc)]));
  const verified: Commit[] = [];
  const rejected: RejectedCommit[] = [];
  for (const commit of claimed) {
    const original = stored.get(commitId(commit.tenantId, commit.seq)) ?? null;
    const reason = checkCommitMessage(commit, original);
    if (reason === undefined && original !== null) verified.push(original);
    else rejected.push({ tenantId: commit.tenantId, seq: commit.seq, reason: reason ?? 'not-in-store' });
  }
  return { verified, rejected };
}

/**
 * How a rejected message may be named in a log line: its tenant id and seq only, quoted and
 * cut short (both come from whoever wrote the message), never its events.
 */
export function describeRejected(rejected: RejectedCommit): string {
  const tenant = JSON.stringify(rejected.tenantId.slice(0, 64));
  const seq = Number.isSafeInteger(rejected.seq) ? String(rejected.seq) : 'NaN';
  return `${tenant}:${seq} (${rejected.reason})`;
}
