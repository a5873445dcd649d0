import type { DirectCommand, TenantLog } from '../keyset/keyset';
import type { Role } from '../shared/actor';
import type { DualControlOperation } from './approval';

/**
 * The dual-control rules, once: which commands are sensitive, and how many people must agree.
 * Doors (key-api, KMIP) import these; they never keep their own lists.
 */

/** The log that holds the provider's own principals; it has no tenant.onboarded event. */
export const PROVIDER_LOG = 'provider';

/** Active principals of a role in this log. */
export function activeWithRole(log: TenantLog, role: Role): number {
  let count = 0;
  for (const p of log.principals.values()) if (p.role === role && p.revokedAt === null) count++;
  return count;
}

/** The quorum when no policy names one: two administrators must agree once there are two. */
export function defaultQuorum(activeAdmins: number): number {
  return activeAdmins >= 2 ? 2 : 1;
}

/** How many provider-admins a provider decision needs (offboarding, the provider's own admins). */
export function providerQuorum(providerLog: TenantLog): number {
  return defaultQuorum(activeWithRole(providerLog, 'provider-admin'));
}

/** The quorum of a tenant's dual-control policy: the one it names, else the default for its tenant-admins. */
export function policyQuorum(log: TenantLog): number {
  return log.tenant?.policy.dualControl.quorum ?? defaultQuorum(activeWithRole(log, 'tenant-admin'));
}

/** Offboarding (the operation, or the command) is decided by the provider: its quorum comes from the provider log, not the tenant's policy. */
export function isProviderDecision(operation: DualControlOperation | DirectCommand['kind']): boolean {
  return operation === 'tenant.offboard';
}

const isAdmin = (role: Role | undefined): boolean => role === 'tenant-admin' || role === 'provider-admin';

/** Whether the principal a command acts on is an administrator (changing it is an admin change). */
const onAdmin = (command: { readonly principalId: string }, log: TenantLog): DualControlOperation | undefined =>
  isAdmin(log.principals.get(command.principalId)?.role) ? 'principal.manage-admin' : undefined;

type Sensitivity<K extends DirectCommand['kind']> =
  ((command: Extract<DirectCommand, { kind: K }>, log: TenantLog) => DualControlOperation | undefined) | null;

/**
 * Every direct command, classified: `null` is never sensitive; a function answers the dual-control
 * operation the command is in this log, if any. The compiler makes a new command kind be classified here.
 */
const SENSITIVITY: { readonly [K in DirectCommand['kind']]: Sensitivity<K> } = {
  'tenant.onboard': null,
  'tenant.suspend': null,
  'tenant.resume': null,
  'tenant.offboard': () => 'tenant.offboard',
  'tenant.set-policy': () => 'tenant.set-policy',
  'key.create': null,
  'key.activate': null,
  'key.deactivate': null,
  'key.compromise': null,
  'key.rotate': null,
  'key.schedule-destruction': () => 'key.schedule-destruction',
  'key.cancel-destruction': null,
  'key.destroy': null,
  'key.set-alias': null,
  'key.change-labels': null,
  'key.set-description': null,
  // Raising the floor is not sensitive; lowering it lets old ciphertext be read again.
  'key.set-min-decryption-version': (command, log) => {
    const key = log.keys.get(command.keyId);
    return key && command.version < key.minDecryptionVersion ? 'key.lower-min-decryption-version' : undefined;
  },
  'key.enable-export': () => 'key.enable-export',
  // Handing a key to an appliance lets it use, and under some policies destroy, the key.
  'key.assign-owner': () => 'key.assign-owner',
  // Ownership (key.ownership.ts) and the tenant's kmipDestroy policy (set under dual control) decide it.
  'key.request-destruction': null,
  'key.change-attributes': null,
  'principal.create': (command) => (isAdmin(command.role) ? 'principal.manage-admin' : undefined),
  'principal.revoke': onAdmin,
  // An administrator's certificate binding decides who can act as that administrator.
  'principal.bind-certificate': onAdmin,
  'principal.unbind-certificate': onAdmin,
  // The first enrollment comes with the creation (already approved); a new token for an admin is an admin change.
  'principal.issue-enrollment': (command, log) => {
    const principal = log.principals.get(command.principalId);
    return isAdmin(principal?.role) && principal?.enrollment !== undefined ? 'principal.manage-admin' : undefined;
  },
  'principal.enroll': null,
  // Every key of a tenant is under the tenant's dual-control policy: listing grant.create there makes every new grant need approval.
  'grant.create': () => 'grant.create',
  // Narrowing access is never sensitive.
  'grant.revoke': null,
};

/** Whether a command can be sensitive at all (whatever the log): such commands travel as approval requests. */
export function maybeSensitive(command: DirectCommand): boolean {
  return Boolean(SENSITIVITY[command.kind]);
}

/** The dual-control operation a command is, if it is one. */
export function sensitiveOperation(command: DirectCommand, log: TenantLog): DualControlOperation | undefined {
  const rule = SENSITIVITY[command.kind] as Sensitivity<DirectCommand['kind']> | undefined;
  return rule ? rule(command, log) : undefined;
}

/**
 * How many people in all (requester included) a sensitive operation needs. Tenant operations follow
 * the tenant policy; offboarding is a provider decision whose quorum the provider log supplies.
 */
export function quorumFor(operation: DualControlOperation, log: TenantLog, providerDecisionQuorum?: number): number {
  if (isProviderDecision(operation)) return providerDecisionQuorum ?? 1;
  // The provider's own administrators: two of them must agree once there are two.
  if (log.logId === PROVIDER_LOG) return providerQuorum(log);
  const policy = log.tenant?.policy.dualControl;
  if (policy === undefined || !policy.operations.includes(operation)) return 1;
  return policyQuorum(log);
}

/** Whether a command sent directly would be refused for want of approvals (its quorum is above one). */
export function needsApproval(command: DirectCommand, log: TenantLog): boolean {
  const operation = sensitiveOperation(command, log);
  return operation !== undefined && quorumFor(operation, log) > 1;
}
