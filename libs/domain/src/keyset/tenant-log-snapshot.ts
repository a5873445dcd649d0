import type { ApprovalState } from '../approval/approval';
import type { KeyState } from '../key/key.state';
import type { PrincipalCertificate } from '../principal/principal-certificate';
import type { PrincipalState } from '../principal/principal';
import type { TenantState } from '../tenant/tenant';
import type { GrantState } from '../grant/grant.types';
import { TenantLog, type DirectCommand } from './keyset';

/**
 * The shape of the state the fold builds. A snapshot records it; one taken under another version is
 * ignored (the log is replayed instead), so bump it whenever an evolve function changes what it
 * produces. `tenant-log-snapshot.spec.ts` pins the snapshot of a fixture log and fails until it is.
 */
export const TENANT_LOG_STATE_VERSION = 1;

/**
 * A tenant log's folded state as plain JSON data, at `seq`: what a cold reader restores instead of
 * folding every commit again. Holds no key material (key states carry check values only).
 */
export interface TenantLogSnapshot {
  readonly stateVersion: number;
  readonly logId: string;
  readonly seq: number;
  readonly tenant: TenantState | null;
  readonly keys: readonly KeyState[];
  readonly aliases: readonly (readonly [alias: string, keyId: string])[];
  readonly principals: readonly PrincipalState[];
  readonly approvals: readonly (readonly [approvalId: string, approval: ApprovalState<DirectCommand>])[];
  readonly certificates: readonly (readonly [principalId: string, certificate: PrincipalCertificate])[];
  /** Every grant, revoked ones included, in creation order (the order authorization relies on). */
  readonly grants: readonly GrantState[];
}

/** The log's state as a snapshot (shares the state values: they are immutable). */
export function snapshotOf(log: TenantLog): TenantLogSnapshot {
  return {
    stateVersion: TENANT_LOG_STATE_VERSION,
    logId: log.logId,
    seq: log.seq,
    tenant: log.tenant ?? null,
    keys: [...log.keys.values()],
    aliases: [...log.aliases.entries()],
    principals: [...log.principals.values()],
    approvals: [...log.approvals.entries()],
    certificates: [...log.certificates.entries()],
    grants: [...log.grants.values()],
  };
}

/**
 * The log a snapshot describes, or `undefined` when it was taken under another state version or
 * for another log (the caller then folds the commits instead). Restoring then folding the commits
 * after `seq` gives the same log as folding every commit.
 */
export function restoreSnapshot(logId: string, snapshot: TenantLogSnapshot): TenantLog | undefined {
  if (snapshot.stateVersion !== TENANT_LOG_STATE_VERSION || snapshot.logId !== logId) return undefined;
  if (!Number.isSafeInteger(snapshot.seq) || snapshot.seq < 1) return undefined;
  const log = new TenantLog(logId);
  log.seq = snapshot.seq;
  if (snapshot.tenant !== null) log.tenant = snapshot.tenant;
  for (const key of snapshot.keys) log.keys.set(key.keyId, key);
  for (const [alias, keyId] of snapshot.aliases) log.aliases.set(alias, keyId);
  for (const principal of snapshot.principals) log.principals.set(principal.principalId, principal);
  for (const [approvalId, approval] of snapshot.approvals) log.approvals.set(approvalId, approval);
  for (const [principalId, certificate] of snapshot.certificates) log.certificates.set(principalId, certificate);
  log.restoreGrants(snapshot.grants);
  return log;
}
