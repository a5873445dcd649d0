import { GENESIS_HASH, hashCommit, type Commit } from './commit';

/** Where a tenant's chain stands: its last accepted commit (seq 0 and the genesis hash before any). */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const GENESIS_HEAD: ChainHead = Object.freeze({ seq: 0, hash: GENESIS_HASH });

/**
 * How a commit fails to continue a chain: `gap`, it is not the next seq; `hash-mismatch`, it does
 * not hash to its own hash (altered after it was written); `broken-link`, it does not point at the
 * hash of the commit before it (re-sealed, or spliced in).
 */
export type ChainBreak = 'gap' | 'hash-mismatch' | 'broken-link';

/** True when the commit hashes to the hash it carries. */
export function isSealed(commit: Commit): boolean {
  return hashCommit(commit) === commit.hash;
}

/**
 * The rule of the hash chain, the one every verifier applies: the commit that continues a chain
 * at `head` has the next seq, hashes to its own hash and points at the head's hash. Checked in that
 * order; undefined when the commit continues the chain.
 */
export function chainBreak(head: ChainHead, commit: Commit): ChainBreak | undefined {
  if (commit.seq !== head.seq + 1) return 'gap';
  if (!isSealed(commit)) return 'hash-mismatch';
  if (commit.prevHash !== head.hash) return 'broken-link';
  return undefined;
}

export type ChainProblem =
  | { readonly seq: number; readonly problem: 'gap'; readonly expected: number }
  | { readonly seq: number; readonly problem: 'hash-mismatch' }
  | { readonly seq: number; readonly problem: 'broken-link' };

/**
 * Checks one tenant's commits, in order, from `startSeq` with `prevHash`: no gap, each hash
 * recomputes, each commit points at its predecessor. Returns the first problem, if any.
 */
export function verifyChain(commits: Iterable<Commit>, startSeq = 1, prevHash = GENESIS_HASH): ChainProblem | undefined {
  let head: ChainHead = { seq: startSeq - 1, hash: prevHash };
  for (const commit of commits) {
    const broken = chainBreak(head, commit);
    if (broken === 'gap') return { seq: commit.seq, problem: broken, expected: head.seq + 1 };
    if (broken !== undefined) return { seq: commit.seq, problem: broken };
    head = { seq: commit.seq, hash: commit.hash };
  }
  return undefined;
}

/**
 * The heads of many tenants' chains, for a stream that interleaves them (a topic read from its
 * beginning, a whole log). Each tenant starts at the genesis head.
 */
export class TenantChains {
  private readonly heads = new Map<string, ChainHead>();

  /** The tenant's head: its last accepted (or advanced to) commit. */
  head(tenantId: string): ChainHead {
    return this.heads.get(tenantId) ?? GENESIS_HEAD;
  }

  /** How the commit fails to continue its tenant's chain, if it does; moves nothing. */
  check(commit: Commit): ChainBreak | undefined {
    return chainBreak(this.head(commit.tenantId), commit);
  }

  /** Moves the tenant's head to the commit, whether it continued the chain or not. */
  advance(commit: Commit): void {
    this.heads.set(commit.tenantId, { seq: commit.seq, hash: commit.hash });
  }

  /** Checks the commit and moves its tenant's head to it only when it continues the chain. */
  accept(commit: Commit): ChainBreak | undefined {
    const broken = this.check(commit);
    if (broken === undefined) this.advance(commit);
    return broken;
  }

  /** Tenants seen so far. */
  get size(): number {
    return this.heads.size;
  }

  /** Every tenant's head. */
  entries(): IterableIterator<[string, ChainHead]> {
    return this.heads.entries();
  }
}
