import { Injectable } from '@nestjs/common';
import type { Filter } from 'mongodb';
import type { KeyLifecycleState, KeyState, TenantLog } from '@keyward/domain';
import {
  CommandExecutor,
  entryMatches,
  pageAfter,
  readByIds,
  ViewCollections,
  viewId,
  viewMatches,
  type KeyView,
  type PrincipalView,
  type TenantView,
} from '@keyward/event-log';
import { ProblemError } from '@keyward/platform';
import { KeyStateSource } from '@keyward/keys';

export const MIN_SEQ_WAIT_MS = 2_000;
/** Longest wait for the event stream to carry a commit before the store is read again anyway. */
const STREAM_WAIT_MS = 100;

export interface KeyFilter {
  readonly state?: KeyLifecycleState;
  readonly alias?: string;
  readonly label?: { readonly name: string; readonly value: string };
  readonly keyType?: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

/** Reads the projected views; `minSeq` waits (bounded) until the projection has caught up, and is refused beyond the log's head. */
@Injectable()
export class ViewReader {
  constructor(
    private readonly views: ViewCollections,
    private readonly states: KeyStateSource,
    private readonly executor: CommandExecutor,
  ) {}

  /**
   * Waits (at most `waitMs`) until the views of the tenant include commit `minSeq`. The projector
   * cannot have applied a commit the event stream has not carried yet, so until key-api's own
   * stream consumer has seen it, the wait is on that (in memory) rather than on reads of the store;
   * then the checkpoint is read every 5, 10, 20 ms. Should the consumer miss the commit, the store
   * is still read every STREAM_WAIT_MS.
   */
  async waitFor(tenantId: string, minSeq: number | undefined, waitMs = MIN_SEQ_WAIT_MS): Promise<void> {
    if (minSeq === undefined) return;
    await this.requireCommitted(tenantId, minSeq);
    const deadline = Date.now() + waitMs;
    let delay = 5;
    for (;;) {
      const checkpoint = await this.views.checkpoints.findOne({ _id: tenantId });
      if ((checkpoint?.lastSeq ?? 0) >= minSeq) return;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ProblemError(
          503,
          'view-not-caught-up',
          'View not caught up',
          `the views have not reached seq ${minSeq} yet (at ${checkpoint?.lastSeq ?? 0}); retry shortly`,
          { minSeq, currentSeq: checkpoint?.lastSeq ?? 0 },
          { 'retry-after': '1' },
        );
      }
      if (this.states.streamedSeq(tenantId) < minSeq) {
        await this.states.whenStreamed(tenantId, minSeq, Math.min(STREAM_WAIT_MS, left));
        delay = 5; // the projector has it now (or the stream missed it): read at once, then every 5, 10, 20 ms
      } else {
        await new Promise((r) => setTimeout(r, Math.min(delay, left)));
        delay = Math.min(delay * 2, 20);
      }
    }
  }

  /**
   * A `minSeq` beyond the head of the tenant's log names a commit that does not exist: no wait
   * can make the views reach it, so that is the client's error (409 seq-not-reached, at once).
   * The head is known without I/O when this process made or streamed the commit; otherwise the
   * log is caught up from the store (one indexed read in the steady state).
   */
  private async requireCommitted(tenantId: string, minSeq: number): Promise<void> {
    const known = Math.max(this.states.streamedSeq(tenantId), this.executor.peek(tenantId)?.seq ?? 0);
    if (minSeq <= known) return;
    const headSeq = (await this.executor.current(tenantId)).seq;
    if (minSeq <= headSeq) return;
    throw new ProblemError(
      409,
      'seq-not-reached',
      'Sequence not reached',
      `minSeq ${minSeq} is beyond the head of the tenant's log (seq ${headSeq}): pass a seq a command answered`,
      { minSeq, headSeq },
    );
  }

  key(tenantId: string, keyId: string): Promise<KeyView | null> {
    return this.views.keys.findOne({ _id: viewId(tenantId, keyId) });
  }

  /** By the tenant index (one `_id` read), then the key's view by `_id`. */
  async keyByAlias(tenantId: string, alias: string): Promise<KeyView | null> {
    const index = await this.views.indexes.findOne({ _id: tenantId });
    if (index === null) return this.views.keys.findOne({ tenantId, alias }); // views from before there was an index
    const entry = index.keys.find((e) => e.alias === alias);
    const view = entry ? await this.key(tenantId, entry.keyId) : null;
    return view?.alias === alias ? view : null;
  }

  /**
   * A page of keys in keyId order, from this process's folded log of the tenant: the same key states
   * the projector writes as views, without a store read when the tenant is in memory (a cold tenant
   * costs its snapshot and the commits after it: see CommandExecutor). The log is at least as fresh
   * as the event stream says (KeyStateSource.log), and with `minSeq` it includes that commit (read
   * your writes; 409 beyond the log's head, as for the views).
   */
  async keyPage(tenantId: string, filter: KeyFilter, limit: number, after: string | undefined, minSeq?: number): Promise<Page<KeyState>> {
    let log = await this.states.log(tenantId);
    if (minSeq !== undefined && log.seq < minSeq) {
      await this.requireCommitted(tenantId, minSeq);
      log = await this.executor.current(tenantId);
    }
    const sorted = keysInIdOrder(log);
    const { ids, more } = pageAfter(
      sorted,
      (k) => k.keyId,
      after,
      limit,
      (k) => viewMatches(k, filter),
    );
    const items = ids.flatMap((id) => log.keys.get(id) ?? []);
    return { items, nextCursor: more ? (ids.at(-1) ?? null) : null };
  }

  /**
   * A page of keys in keyId order from the views: the tenant index (one `_id` read) picks the page's ids, their
   * views are read by `_id` (a few in flight) and checked against the filter once more (the index
   * can be a step behind or ahead of a view being written).
   */
  async keys(tenantId: string, filter: KeyFilter, limit: number, after: string | undefined): Promise<Page<KeyView>> {
    const index = await this.views.indexes.findOne({ _id: tenantId });
    if (index === null) return this.keysWithoutIndex(tenantId, filter, limit, after);
    const { ids, more } = pageAfter(
      index.keys,
      (e) => e.keyId,
      after,
      limit,
      (e) => entryMatches(e, filter),
    );
    const views = await readByIds(
      this.views.keys,
      ids.map((id) => viewId(tenantId, id)),
    );
    const items = views.filter((v): v is KeyView => v !== null && viewMatches(v, filter));
    return { items, nextCursor: more ? (ids.at(-1) ?? null) : null };
  }

  /** Views projected before the tenant index existed (until the projector next writes the tenant). */
  private async keysWithoutIndex(tenantId: string, filter: KeyFilter, limit: number, after: string | undefined): Promise<Page<KeyView>> {
    const query: Record<string, unknown> = { tenantId };
    if (filter.state) query.state = filter.state;
    if (filter.alias) query.alias = filter.alias;
    if (filter.label) query[`labels.${filter.label.name}`] = filter.label.value;
    if (filter.keyType) query.keyType = filter.keyType;
    if (after) query.keyId = { $gt: after };
    const items = await this.views.keys
      .find(query as Filter<KeyView>)
      .sort({ keyId: 1 })
      .limit(limit + 1)
      .toArray();
    const more = items.length > limit;
    const page = items.slice(0, limit);
    return { items: page, nextCursor: more ? (page.at(-1)?.keyId ?? null) : null };
  }

  tenant(tenantId: string): Promise<TenantView | null> {
    return this.views.tenants.findOne({ _id: tenantId });
  }

  /**
   * The provider's listing of every tenant: a range read of the tenant views (index-served on
   * MongoDB; on the embedded store it reads one small document per tenant, never a key or a
   * commit). Not a per-tenant index: the tenants are projected by different projector instances
   * (one per partition), and a document listing all of them would be updated by several at once,
   * which FerretDB cannot do atomically (issue 3040).
   */
  async tenants(limit: number, after: string | undefined): Promise<Page<TenantView>> {
    const items = await this.views.tenants
      .find(after ? { _id: { $gt: after } } : {})
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    const page = items.slice(0, limit);
    return { items: page, nextCursor: items.length > limit ? (page.at(-1)?._id ?? null) : null };
  }

  /** A page of principals in principalId order: the tenant index, then the page's views by `_id`. */
  async principals(tenantId: string, limit: number, after: string | undefined): Promise<Page<PrincipalView>> {
    const index = await this.views.indexes.findOne({ _id: tenantId });
    if (index === null) {
      // Views projected before the tenant index existed.
      const query: Filter<PrincipalView> = after ? { tenantId, principalId: { $gt: after } } : { tenantId };
      const items = await this.views.principals
        .find(query)
        .sort({ principalId: 1 })
        .limit(limit + 1)
        .toArray();
      const page = items.slice(0, limit);
      return { items: page, nextCursor: items.length > limit ? (page.at(-1)?.principalId ?? null) : null };
    }
    const { ids, more } = pageAfter(index.principals, (e) => e.principalId, after, limit);
    const views = await readByIds(
      this.views.principals,
      ids.map((id) => viewId(tenantId, id)),
    );
    return { items: views.filter((v): v is PrincipalView => v !== null), nextCursor: more ? (ids.at(-1) ?? null) : null };
  }
}

/** The log's keys sorted by keyId, computed once per log and seq (a page then costs a binary search and the page). */
const sortedKeys = new WeakMap<TenantLog, { readonly seq: number; readonly keys: readonly KeyState[] }>();

function keysInIdOrder(log: TenantLog): readonly KeyState[] {
  const cached = sortedKeys.get(log);
  if (cached !== undefined && cached.seq === log.seq) return cached.keys;
  const keys = [...log.keys.values()].sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
  sortedKeys.set(log, { seq: log.seq, keys });
  return keys;
}
