import type { Filter } from 'mongodb';
import type { CommitDocument, CommitStore } from '@keyward/event-log';

export interface CommitRange {
  /** Commits with seq > afterSeq ... */
  readonly afterSeq?: number;
  /** ... and seq <= toSeq. */
  readonly toSeq?: number;
  /** Extra conditions the store evaluates (a pre-filter: callers still check every event). */
  readonly where?: Filter<CommitDocument>;
}

/**
 * A tenant's commits in seq order, read in pages by seq (no long-lived server cursor), so a log of
 * any length streams through in bounded memory. A missing seq is simply not there: callers that
 * care (the chain walk) notice the gap.
 */
export async function* readCommits(
  store: CommitStore,
  tenantId: string,
  range: CommitRange = {},
  pageSize = 1_000,
): AsyncGenerator<CommitDocument> {
  let after = range.afterSeq ?? 0;
  const toSeq = range.toSeq ?? Number.MAX_SAFE_INTEGER;
  for (;;) {
    const page = await store.commits
      .find({ ...range.where, tenantId, seq: { $gt: after, $lte: toSeq } })
      .sort({ seq: 1 })
      .limit(pageSize)
      .toArray();
    for (const commit of page) yield commit;
    const last = page.at(-1);
    if (last === undefined || page.length < pageSize) return;
    after = last.seq;
  }
}
