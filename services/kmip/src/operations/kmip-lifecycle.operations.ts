import { DomainError, isOwnershipBound, type KeywardCommand } from '@keyward/domain';
import { asDate, asEnum, asText, child, ResultReason, RevocationReasonCode, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { decisionContext, fail, findKey, MANAGERS, requireRole, type Call, type KmipDeps, type Payload } from '../kmip-call';

async function lifecycle(
  deps: KmipDeps,
  payload: TtlvItem | undefined,
  call: Call,
  command: (keyId: string) => KeywardCommand,
): Promise<Payload> {
  requireRole(call, MANAGERS, 'manage keys');
  const { key } = await findKey(deps, payload, call);
  await deps.executor.execute(call.principal.tenantId, command(key.keyId), decisionContext(call));
  return [ttlv.text(Tag.UniqueIdentifier, key.keyId)];
}

/** Activate: key.activate. */
export const activate = (deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> =>
  lifecycle(deps, payload, call, (keyId) => ({ kind: 'key.activate', keyId }));

/**
 * Destroy. A kmip-client: key.request-destruction, KMIP's Destroy under the tenant's kmipDestroy
 * policy (never-activated keys at once; Deactivated/Compromised keys it owns at once under
 * `immediate-for-owner`, else a pending destruction that stops every use now; Active keys refused).
 * A tenant-admin: key.destroy as over REST (scheduled under dual control, waiting period passed).
 * Whatever is shredded is shredded before the answer.
 */
export const destroy = (deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> =>
  lifecycle(deps, payload, call, (keyId) =>
    isOwnershipBound(call.principal.role) ? { kind: 'key.request-destruction', keyId } : { kind: 'key.destroy', keyId },
  ).catch((err: unknown) => {
    // KMIP 1.4 §4.21: an Active object is not destroyed, and the refusal is Permission Denied (SKLC-M-2-14).
    if (err instanceof DomainError && err.code === 'illegal-transition' && err.details['state'] === 'Active')
      fail(ResultReason.PermissionDenied, err.message, err.code);
    throw err;
  });

/** Revoke: Key/CA Compromise → key.compromise (with the message and occurrence date); any other reason → key.deactivate. */
export function revoke(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  const reason = child(payload, Tag.RevocationReason);
  const code = asEnum(child(reason, Tag.RevocationReasonCode));
  if (code === undefined) return Promise.resolve(fail(ResultReason.MissingData, 'Revocation Reason is required'));
  const message = asText(child(reason, Tag.RevocationMessage));
  const occurred = asDate(child(payload, Tag.CompromiseOccurrenceDate));
  if (code === RevocationReasonCode.KeyCompromise || code === RevocationReasonCode.CaCompromise) {
    return lifecycle(deps, payload, call, (keyId) => ({
      kind: 'key.compromise',
      keyId,
      reason: message?.trim() ? message : 'KMIP Revoke: key compromise',
      ...(occurred === undefined ? {} : { compromiseDate: occurred }),
    }));
  }
  return lifecycle(deps, payload, call, (keyId) => ({ kind: 'key.deactivate', keyId }));
}
