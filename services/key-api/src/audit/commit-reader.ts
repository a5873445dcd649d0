import type { CommitDocument, CommitStore } from '@keyward/event-log';

export interface CommitRange {
  /** Commits with seq > afterSeq ... */
  readonly afterSeq?: number;
  /** ... and seq <= toSeq (never beyond the tenant's head when the read starts). */
  readonly toSeq?: number;
}

/**
 * A tenant's commits in seq order, read through CommitStore.load in pages of seq ranges (no
 * long-lived server cursor, no query over other tenants' commits), so a log of any length streams
 * through in bounded memory and costs what that tenant's log costs. The range ends at the head
 * read when the walk starts (a commit written during the walk is left to the caller). A missing
 * seq is simply not there: callers that care (the chain walk) notice the gap.
 */
export async function* readCommits(
  store: Pick<CommitStore, 'head' | 'load'>,
  tenantId: string,
  range: CommitRange = {},
  pageSize = 1_000,
): AsyncGenerator<CommitDocument> {
  const head = await store.head(tenantId);
  const toSeq = Math.min(range.toSeq ?? Number.MAX_SAFE_INTEGER, head?.seq ?? 0);
  for (let after = Math.max(0, range.afterSeq ?? 0); after < toSeq;) {
    const end = Math.min(toSeq, after + pageSize);
    for (const commit of await store.load(tenantId, after, end)) yield commit;
    after = end;
  }
}
