import { createHash } from 'node:crypto';
import { BSON } from 'mongodb';
import type { KeyLifecycleState } from '@keyward/domain';
import {
  VIEW_SCHEMA_VERSION,
  type KeyIndexEntry,
  type KeyView,
  type PrincipalIndexEntry,
  type PrincipalView,
  type TenantIndex,
  type TenantView,
} from './views';

/**
 * A label as the index holds it: 12 hex digits of SHA-256 over `name`, NUL, `value` (a few bytes
 * whatever the label's length; a rare false match is dropped when the view itself is checked).
 */
export function labelDigest(name: string, value: string): string {
  return createHash('sha256').update(`${name}\0${value}`).digest('hex').slice(0, 12);
}

/**
 * The largest tenant index written (MongoDB refuses a document over 16 MiB). About 110 bytes a
 * key, up to ~930 with the longest id and alias and 32 labels: ~150,000 keys (~18,000 at worst).
 */
export const MAX_INDEX_BYTES = 15 * 1024 * 1024;

/**
 * Whether this index is written. A tenant whose index would exceed the bound has none: its lists
 * fall back to the query over its views (indexed on MongoDB; the whole collection on the embedded
 * store), and the projector loads it by replaying its log. The live projector and the rebuild
 * apply the same rule, so their views stay byte-identical.
 */
export function indexFits(index: TenantIndex, maxBytes = MAX_INDEX_BYTES): boolean {
  // Cheap bound first: no entry is larger than ~1 KiB.
  if ((index.keys.length + index.principals.length) * 1024 < maxBytes) return true;
  return BSON.calculateObjectSize(index) <= maxBytes;
}

export interface KeyIndexFilter {
  readonly state?: KeyLifecycleState;
  readonly alias?: string;
  readonly label?: { readonly name: string; readonly value: string };
  /** Checked on the views only (the index does not carry the type): a page may come out short. */
  readonly keyType?: string;
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A tenant's index as of the projection's state: deterministic (ids sorted), so a rebuild writes the same document. */
export function tenantIndexOf(
  tenantId: string,
  lastSeq: number,
  tenant: TenantView | undefined,
  keys: Iterable<KeyView>,
  principals: Iterable<PrincipalView>,
): TenantIndex {
  const keyEntries: KeyIndexEntry[] = [...keys]
    .map((k) => ({
      keyId: k.keyId,
      state: k.state,
      alias: k.alias,
      labels: Object.entries(k.labels)
        .map(([name, value]) => labelDigest(name, value))
        .sort(byId),
      appliedSeq: k.appliedSeq,
    }))
    .sort((a, b) => byId(a.keyId, b.keyId));
  const principalEntries: PrincipalIndexEntry[] = [...principals]
    .map((p) => ({ principalId: p.principalId, appliedSeq: p.appliedSeq }))
    .sort((a, b) => byId(a.principalId, b.principalId));
  return {
    _id: tenantId,
    schema: VIEW_SCHEMA_VERSION,
    lastSeq,
    tenantSeq: tenant?.appliedSeq ?? null,
    keys: keyEntries,
    principals: principalEntries,
  };
}

/** Whether an index entry may match the filter (the label by digest: the view is checked again). */
export function entryMatches(entry: KeyIndexEntry, filter: KeyIndexFilter): boolean {
  if (filter.state !== undefined && entry.state !== filter.state) return false;
  if (filter.alias !== undefined && entry.alias !== filter.alias) return false;
  if (filter.label !== undefined && !entry.labels.includes(labelDigest(filter.label.name, filter.label.value))) return false;
  return true;
}

/** Whether a key view matches the filter (the final word: the index may be a step behind or ahead of the view). */
export function viewMatches(view: Pick<KeyView, 'state' | 'alias' | 'labels' | 'keyType'>, filter: KeyIndexFilter): boolean {
  if (filter.state !== undefined && view.state !== filter.state) return false;
  if (filter.alias !== undefined && view.alias !== filter.alias) return false;
  if (filter.label !== undefined && view.labels[filter.label.name] !== filter.label.value) return false;
  if (filter.keyType !== undefined && view.keyType !== filter.keyType) return false;
  return true;
}

/** The ids after `after` (exclusive) in id order, at most `limit` of them, and whether more follow. */
export function pageAfter<T>(
  entries: readonly T[],
  idOf: (entry: T) => string,
  after: string | undefined,
  limit: number,
  keep: (entry: T) => boolean = () => true,
): { readonly ids: string[]; readonly more: boolean } {
  let lo = 0;
  if (after !== undefined) {
    // Entries are sorted by id: binary search for the first one past the cursor.
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const entry = entries[mid];
      if (entry !== undefined && idOf(entry) <= after) lo = mid + 1;
      else hi = mid;
    }
  }
  const ids: string[] = [];
  for (const entry of entries.slice(lo)) {
    if (!keep(entry)) continue;
    if (ids.length === limit) return { ids, more: true };
    ids.push(idOf(entry));
  }
  return { ids, more: false };
}

/**
 * Whether the stored views agree with the index (each listed view at or past the seq the index
 * gives it, the tenant view too). A view behind its entry was overwritten by a late write of an
 * older state; the projector then rebuilds the tenant from its log.
 */
export function viewsAgreeWithIndex(
  index: TenantIndex,
  tenant: { appliedSeq: number } | null,
  keys: ReadonlyMap<string, { appliedSeq: number }>,
  principals: ReadonlyMap<string, { appliedSeq: number }>,
): boolean {
  if (index.tenantSeq !== null && (tenant === null || tenant.appliedSeq < index.tenantSeq)) return false;
  for (const e of index.keys) if ((keys.get(e.keyId)?.appliedSeq ?? -1) < e.appliedSeq) return false;
  for (const e of index.principals) if ((principals.get(e.principalId)?.appliedSeq ?? -1) < e.appliedSeq) return false;
  return true;
}
