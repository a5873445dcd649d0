import { approvalStatusAt, type ApprovalState, type KeyState, type PrincipalState } from '@keyward/domain';
import type { KeyView, PrincipalView, TenantView } from '@keyward/event-log';

/** What the API shows of a key: the state, never storage fields. */
export function keyBody(key: KeyState | KeyView): KeyState {
  return {
    keyId: key.keyId,
    keyType: key.keyType,
    state: key.state,
    alias: key.alias,
    description: key.description,
    labels: key.labels,
    exportable: key.exportable,
    // Views projected before the field existed lack it.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    exportEnabled: key.exportEnabled ?? false,
    versions: key.versions,
    latestVersion: key.latestVersion,
    minDecryptionVersion: key.minDecryptionVersion,
    activationDate: key.activationDate,
    deactivationDate: key.deactivationDate,
    compromiseDate: key.compromiseDate,
    compromiseReason: key.compromiseReason,
    destroyAfter: key.destroyAfter,
    destroyedAt: key.destroyedAt,
    createdAt: key.createdAt,
    createdBy: key.createdBy,
    updatedAt: key.updatedAt,
    history: key.history,
  };
}

export function keySummary(key: KeyView): Omit<KeyState, 'history'> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { history, ...rest } = keyBody(key);
  return rest;
}

export function tenantBody(view: TenantView) {
  return {
    tenantId: view.tenantId,
    name: view.name,
    status: view.status,
    policy: view.policy,
    onboardedAt: view.onboardedAt,
    updatedAt: view.updatedAt,
    keyCount: view.keyCount,
    keysByState: view.keysByState,
    principalCount: view.principalCount,
    seq: view.appliedSeq,
  };
}

export function principalBody(p: PrincipalState | PrincipalView): PrincipalState {
  return { principalId: p.principalId, name: p.name, role: p.role, createdAt: p.createdAt, revokedAt: p.revokedAt };
}

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
