import { approvalStatusAt, type ApprovalState } from '@keyward/domain';

/** What the API shows of an approval request, as of `now` (its status depends on the time). */
export function approvalBody(a: ApprovalState, now: Date) {
  return {
    approvalId: a.approvalId,
    operation: a.operation,
    status: approvalStatusAt(a, now),
    quorum: a.quorum,
    approvals: 1 + a.approvedBy.length,
    requestedBy: a.requestedBy,
    requestedAt: a.requestedAt,
    expiresAt: a.expiresAt,
    approvedBy: a.approvedBy,
    closedAt: a.closedAt,
    outcome: a.outcome,
    command: commandBody(a.command),
  };
}

/**
 * A pending command as approvers see it: the public key a new principal enrolls with shows as its
 * fingerprint (compare it with the new principal's), an enrollment token as nothing at all.
 */
function commandBody(command: ApprovalState['command']): Record<string, unknown> {
  const body = { ...(command as object) } as Record<string, unknown>;
  const key = body.enrollmentKey as { fingerprint: string } | undefined;
  delete body.enrollmentKey;
  delete body.tokenHash;
  if (key) body.publicKeyFingerprint = key.fingerprint;
  return body;
}
