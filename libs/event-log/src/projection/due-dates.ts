import type { KeyLifecycleState } from '@keyward/domain';
import type { KeyView } from './views';

/**
 * The document of `view_due` that says every key with a pending date has its document there
 * (written by the projector's one-time backfill and by every rebuild). Without it, a reader falls
 * back to the key views.
 */
export const DUE_COMPLETE = '~complete';

/**
 * A key with a date the server promised to act on (a destruction after its waiting period, an
 * activation or deactivation date): what the scheduler's agenda is filled from at start, so that a
 * start reads the keys that have such a date, not every key of the deployment. `_id` as its key
 * view's; written by the projector before the key view, deleted once the key has none.
 */
export interface DueView {
  readonly _id: string;
  readonly tenantId: string;
  readonly keyId: string;
  readonly state: KeyLifecycleState;
  readonly destroyAfter: string | null;
  readonly activationDate: string | null;
  readonly deactivationDate: string | null;
  readonly appliedSeq: number;
}

/** A date the scheduler must act on: what to do to the key, and from when. */
export interface PendingDate {
  readonly kind: 'destroy' | 'activate' | 'deactivate';
  readonly at: string;
}

/**
 * The one rule of what is pending for a key as its view (or view_due document) stands: a scheduled
 * destruction, an activation date of a pre-active key, a deactivation date of a key not yet
 * deactivated. PENDING_DATES_FILTER is the same rule as a query.
 */
export function pendingDates(key: Pick<DueView, 'state' | 'destroyAfter' | 'activationDate' | 'deactivationDate'>): PendingDate[] {
  const { state, destroyAfter, activationDate, deactivationDate } = key;
  const pending: PendingDate[] = [];
  if (destroyAfter !== null) pending.push({ kind: 'destroy', at: destroyAfter });
  if (state === 'PreActive' && activationDate !== null) pending.push({ kind: 'activate', at: activationDate });
  if ((state === 'PreActive' || state === 'Active') && deactivationDate !== null)
    pending.push({ kind: 'deactivate', at: deactivationDate });
  return pending;
}

/** The key's pending dates, or null when the scheduler has nothing to do for it. */
export function dueViewOf(key: KeyView): DueView | null {
  if (pendingDates(key).length === 0) return null;
  const { _id, tenantId, keyId, state, destroyAfter, activationDate, deactivationDate, appliedSeq } = key;
  return { _id, tenantId, keyId, state, destroyAfter, activationDate, deactivationDate, appliedSeq };
}

/** The marker document of view_due (DUE_COMPLETE). */
export interface DueCompleteMarker {
  readonly _id: typeof DUE_COMPLETE;
  readonly at: string;
}

export type DueDocument = DueView | DueCompleteMarker;

export const isDueView = (doc: DueDocument): doc is DueView => doc._id !== DUE_COMPLETE;

/** The key views with a pending date, as a query (pendingDates' rule): a scan of every key view on FerretDB. */
export const PENDING_DATES_FILTER = {
  $or: [
    { destroyAfter: { $ne: null } },
    { state: 'PreActive', activationDate: { $ne: null } },
    { state: { $in: ['PreActive', 'Active'] }, deactivationDate: { $ne: null } },
  ],
} as const;
