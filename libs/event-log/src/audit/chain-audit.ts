import { GENESIS_HASH, type Commit } from '../commit/commit';
import { chainBreak, isSealed, type ChainBreak, type ChainHead } from '../commit/hash-chain';

/** What can be wrong with a tenant's history, each pinned to the first seq it affects. */
export type AuditProblemKind =
  /** A seq is missing from the store (a commit was removed). */
  | 'missing-commit'
  /** A stored commit no longer hashes to its own hash (altered after it was written). */
  | 'hash-mismatch'
  /** A stored commit does not point at its predecessor's hash (re-sealed, or spliced in). */
  | 'broken-link'
  /** Kafka holds another hash for this seq than the store. */
  | 'kafka-mismatch'
  /** The store says the commit was published, but the topic does not hold it. */
  | 'kafka-missing'
  /** A message on the topic is not a well-formed commit of this tenant, or does not hash to its own hash. */
  | 'kafka-invalid'
  /** A signed checkpoint names a hash for this seq that the store no longer has. */
  | 'checkpoint-mismatch'
  /** A checkpoint's signature does not verify with any published checkpoint key. */
  | 'checkpoint-signature';

export interface AuditProblem {
  readonly seq: number;
  readonly problem: AuditProblemKind;
  readonly detail: string;
}

/**
 * Walks one tenant's commits in seq order, one at a time (so a long log streams through it):
 * no gap, each commit hashes to its hash, each points at its predecessor (the chain rule,
 * chainBreak). Stops at the first problem; everything before it is verified.
 */
export class ChainWalker {
  private head: ChainHead;
  private found: AuditProblem | undefined;

  constructor(startSeq = 1, prevHash = GENESIS_HASH) {
    this.head = { seq: startSeq - 1, hash: prevHash };
  }

  /** The first problem, once one was seen. */
  get problem(): AuditProblem | undefined {
    return this.found;
  }

  /** The last seq checked and found good. */
  get verifiedThroughSeq(): number {
    return this.head.seq;
  }

  /** Hash of the last good commit (the genesis hash, or the starting one, before any). */
  get headHash(): string {
    return this.head.hash;
  }

  /** Checks the next commit; returns the problem it shows, if any. Ignores everything after a problem. */
  accept(commit: Commit): AuditProblem | undefined {
    if (this.found) return undefined;
    const broken = chainBreak(this.head, commit);
    if (broken !== undefined) {
      this.found = describeBreak(broken, this.head.seq + 1, commit);
      return this.found;
    }
    this.head = { seq: commit.seq, hash: commit.hash };
    return undefined;
  }
}

/** The audit's words for a break of the chain where commit `seq` was expected. */
function describeBreak(broken: ChainBreak, seq: number, commit: Commit): AuditProblem {
  switch (broken) {
    case 'gap':
      return commit.seq > seq
        ? { seq, problem: 'missing-commit', detail: `commit ${seq} is missing from the store (the next one stored is ${commit.seq})` }
        : { seq: commit.seq, problem: 'missing-commit', detail: `commit ${commit.seq} appears out of order (expected ${seq})` };
    case 'hash-mismatch':
      return {
        seq,
        problem: 'hash-mismatch',
        detail: `commit ${seq} does not hash to its stored hash: it was altered after it was written`,
      };
    case 'broken-link':
      return {
        seq,
        problem: 'broken-link',
        detail: `commit ${seq} does not point at the hash of commit ${seq - 1}: the chain was rewritten`,
      };
  }
}

/**
 * Checks the commit a walk from a checkpoint starts after (`since`: its seq and the hash the
 * checkpoint holds): it is stored, still hashes to its hash, and that is the checkpoint's hash.
 */
export function checkAnchor(anchor: Commit | null, since: ChainHead): AuditProblem | undefined {
  if (!anchor)
    return { seq: since.seq, problem: 'missing-commit', detail: `commit ${since.seq} of the checkpoint is missing from the store` };
  if (!isSealed(anchor))
    return { seq: since.seq, problem: 'hash-mismatch', detail: `commit ${since.seq} does not hash to its stored hash` };
  if (anchor.hash !== since.hash) {
    return {
      seq: since.seq,
      problem: 'checkpoint-mismatch',
      detail: `commit ${since.seq} no longer has the hash of the checkpoint: the history up to it was rewritten`,
    };
  }
  return undefined;
}

/** One commit as the store holds it, for the comparison with the topic. */
export interface StoredLink {
  readonly hash: string;
  readonly published: boolean;
}

/** One message of the tenant read from the topic. */
export interface TopicLink {
  readonly seq: number;
  readonly hash: string;
  /** False when the message does not hash to its own hash (or is not a commit of this tenant). */
  readonly valid: boolean;
}

export interface TopicComparison {
  readonly messages: number;
  /** Highest seq such that every seq from the first compared one up to it is on the topic. */
  readonly publishedThroughSeq: number;
  readonly problem: AuditProblem | undefined;
}

/**
 * Compares the store with what the topic holds for the tenant, from `fromSeq` on: every seq on the
 * topic (duplicates included: delivery is at least once) must carry the store's hash, every commit
 * the store marked published must be on the topic, and the topic must hold nothing the store lost.
 * `lateSeqs` are topic seqs beyond the store's head that the store has by now (commits written
 * while the topic was read): they are not problems. Returns the problem with the lowest seq.
 */
export function compareWithTopic(
  store: ReadonlyMap<number, StoredLink>,
  topic: readonly TopicLink[],
  fromSeq = 1,
  lateSeqs: ReadonlySet<number> = new Set(),
): TopicComparison {
  const problems: AuditProblem[] = [];
  const onTopic = new Set<number>();
  let messages = 0;
  for (const link of topic) {
    if (link.seq < fromSeq) continue;
    messages += 1;
    onTopic.add(link.seq);
    if (!link.valid) {
      problems.push({
        seq: link.seq,
        problem: 'kafka-invalid',
        detail: `the message for commit ${link.seq} on the topic does not hash to its own hash`,
      });
      continue;
    }
    const stored = store.get(link.seq);
    if (stored === undefined) {
      if (!lateSeqs.has(link.seq)) {
        problems.push({
          seq: link.seq,
          problem: 'missing-commit',
          detail: `commit ${link.seq} is on the topic but missing from the store`,
        });
      }
    } else if (stored.hash !== link.hash) {
      problems.push({
        seq: link.seq,
        problem: 'kafka-mismatch',
        detail: `the store and the topic disagree on the hash of commit ${link.seq}`,
      });
    }
  }
  for (const [seq, stored] of store) {
    if (seq >= fromSeq && stored.published && !onTopic.has(seq)) {
      problems.push({ seq, problem: 'kafka-missing', detail: `commit ${seq} is marked published but the topic does not hold it` });
    }
  }
  let publishedThroughSeq = fromSeq - 1;
  while (onTopic.has(publishedThroughSeq + 1)) publishedThroughSeq += 1;
  problems.sort((a, b) => a.seq - b.seq);
  return { messages, publishedThroughSeq, problem: problems[0] };
}

/** The problem that comes first in the chain (lowest seq); on a tie, the earlier argument. */
export function firstProblem(...problems: (AuditProblem | undefined)[]): AuditProblem | undefined {
  let first: AuditProblem | undefined;
  for (const p of problems) if (p !== undefined && (first === undefined || p.seq < first.seq)) first = p;
  return first;
}
