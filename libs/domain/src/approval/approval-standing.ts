import type { Actor } from '../shared/actor';
import { refuse } from '../shared/domain-error';
import type { ApprovalState } from './approval';

/** Whether this log knows the principal as revoked (principals of other logs, e.g. provider-admins on a tenant's log, read as not revoked). */
export type IsRevoked = (principalId: string) => boolean;

/**
 * Dual control counts people who still hold their office. Approvals granted by administrators
 * revoked since stop counting toward the quorum (their grant stays in the log, it just no longer
 * weighs), and a request whose requester has been revoked can no longer execute: any further
 * approval is refused, and the request lapses at its expiry.
 */
export function standingApprovers(approval: ApprovalState, isRevoked: IsRevoked): Actor[] {
  if (isRevoked(approval.requestedBy.principalId)) {
    refuse('illegal-transition', `the requester of approval ${approval.approvalId} has been revoked; the request can no longer execute`, {
      approvalId: approval.approvalId,
    });
  }
  return approval.approvedBy.filter((approver) => !isRevoked(approver.principalId));
}

/** The principal a command acts on, when it acts on one (revocation, certificate bindings). */
export function targetPrincipal(command: unknown): string | undefined {
  if (typeof command !== 'object' || command === null) return undefined;
  const { kind, principalId } = command as { kind?: unknown; principalId?: unknown };
  if (typeof principalId !== 'string') return undefined;
  return kind === 'principal.revoke' || kind === 'principal.bind-certificate' || kind === 'principal.unbind-certificate'
    ? principalId
    : undefined;
}

/**
 * The administrator a request acts on cannot reject it: otherwise the admin whose revocation (or
 * certificate binding) is requested could veto it forever. It may still approve (agree).
 */
export function checkRejecter(approval: ApprovalState, rejecter: Actor): void {
  if (targetPrincipal(approval.command) === rejecter.principalId) {
    refuse('illegal-transition', 'the administrator this request acts on cannot reject it', { approvalId: approval.approvalId });
  }
}
