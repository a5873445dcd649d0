import type { Actor } from '../shared/actor';
import { refuse } from '../shared/domain-error';
import type { DomainEvent, EventBody } from '../shared/event';

/** Operations that dual control can cover; a tenant's policy chooses which it does. */
export const DUAL_CONTROL_OPERATIONS = [
  'key.schedule-destruction',
  'key.lower-min-decryption-version',
  'tenant.set-policy',
  'principal.manage-admin',
  'tenant.offboard',
  'key.enable-export',
  'key.assign-owner',
  'grant.create',
] as const;
export type DualControlOperation = (typeof DUAL_CONTROL_OPERATIONS)[number];

export const APPROVAL_TTL_HOURS = { default: 24, min: 1, max: 24 * 30 } as const;
export const MAX_QUORUM = 9;

export type ApprovalStatus = 'Pending' | 'Executed' | 'Failed' | 'Rejected';

/** A sensitive command waiting for, or done with, its approvals. `command` is the command as requested (JSON-safe). */
export interface ApprovalState<C = unknown> {
  readonly approvalId: string;
  readonly operation: DualControlOperation;
  readonly command: C;
  readonly quorum: number;
  readonly requestedBy: Actor;
  readonly requestedAt: string;
  readonly expiresAt: string;
  /** Distinct approvers besides the requester, in order. */
  readonly approvedBy: readonly Actor[];
  readonly status: ApprovalStatus;
  readonly closedAt: string | null;
  readonly outcome: string | null;
}

export type ApprovalEventBody<C = unknown> =
  | EventBody<
      'approval.requested.v1',
      {
        readonly approvalId: string;
        readonly operation: DualControlOperation;
        readonly command: C;
        readonly quorum: number;
        readonly expiresAt: string;
      }
    >
  | EventBody<'approval.granted.v1', { readonly approvalId: string }>
  | EventBody<'approval.executed.v1', { readonly approvalId: string; readonly requestedBy: Actor; readonly approvedBy: readonly Actor[] }>
  | EventBody<'approval.failed.v1', { readonly approvalId: string; readonly reason: string }>
  | EventBody<'approval.rejected.v1', { readonly approvalId: string; readonly reason: string }>;
export type ApprovalEvent<C = unknown> = ApprovalEventBody<C> & Omit<DomainEvent, 'type' | 'data'>;

export type ApprovalCommand<C = unknown> =
  | {
      readonly kind: 'approval.request';
      readonly approvalId: string;
      readonly command: C;
      /** Provider operations say their quorum (from the provider log); tenant ones take it from the tenant policy. */
      readonly quorum?: number;
      readonly ttlHours?: number;
    }
  | { readonly kind: 'approval.approve'; readonly approvalId: string }
  | { readonly kind: 'approval.reject'; readonly approvalId: string; readonly reason?: string };

/** Whether `approver` may add an approval to `approval` at `now`; refuses with the precise reason otherwise. */
export function checkApprover<C>(approval: ApprovalState<C> | undefined, approvalId: string, approver: Actor, now: Date): ApprovalState<C> {
  if (approval === undefined) return refuse('not-found', `approval ${approvalId} not found`, { approvalId });
  if (approval.status !== 'Pending') {
    refuse('illegal-transition', `approval ${approvalId} is already ${approval.status.toLowerCase()}`, {
      approvalId,
      status: approval.status,
    });
  }
  if (Date.parse(approval.expiresAt) <= now.getTime()) {
    refuse('illegal-transition', `approval ${approvalId} expired at ${approval.expiresAt}`, { approvalId, expiresAt: approval.expiresAt });
  }
  if (approver.role !== approval.requestedBy.role) {
    refuse('invalid', `only a ${approval.requestedBy.role} may decide on this request`, { approvalId });
  }
  if (approver.principalId === approval.requestedBy.principalId) {
    refuse('illegal-transition', 'the requester cannot approve its own request', { approvalId });
  }
  if (approval.approvedBy.some((a) => a.principalId === approver.principalId)) {
    refuse('illegal-transition', 'this principal has already approved the request; an approver counts once', { approvalId });
  }
  return approval;
}

/** Folds one approval event (in place on the map). */
export function evolveApproval(approvals: Map<string, ApprovalState>, event: ApprovalEvent): void {
  const id = event.data.approvalId;
  const current = approvals.get(id);
  switch (event.type) {
    case 'approval.requested.v1':
      approvals.set(id, {
        approvalId: id,
        operation: event.data.operation,
        command: event.data.command,
        quorum: event.data.quorum,
        requestedBy: event.actor,
        requestedAt: event.at,
        expiresAt: event.data.expiresAt,
        approvedBy: [],
        status: 'Pending',
        closedAt: null,
        outcome: null,
      });
      return;
    case 'approval.granted.v1':
      if (current) approvals.set(id, { ...current, approvedBy: [...current.approvedBy, event.actor] });
      return;
    case 'approval.executed.v1':
      if (current) approvals.set(id, { ...current, status: 'Executed', closedAt: event.at, outcome: 'executed' });
      return;
    case 'approval.failed.v1':
      if (current) approvals.set(id, { ...current, status: 'Failed', closedAt: event.at, outcome: event.data.reason });
      return;
    case 'approval.rejected.v1':
      if (current) approvals.set(id, { ...current, status: 'Rejected', closedAt: event.at, outcome: event.data.reason || 'rejected' });
      return;
  }
}

/** Pending requests past their expiry read as Expired; nothing needs to happen for them to stop counting. */
export function approvalStatusAt(approval: ApprovalState, now: Date): ApprovalStatus | 'Expired' {
  return approval.status === 'Pending' && Date.parse(approval.expiresAt) <= now.getTime() ? 'Expired' : approval.status;
}
