import { DUAL_CONTROL_OPERATIONS, MAX_QUORUM, type DualControlOperation } from '../approval/approval';
import { refuse } from '../shared/domain-error';
import type { DomainEvent, EventBody } from '../shared/event';
import type { EnrollmentKey } from '../principal/enrollment';
import { GRANT_MODES, type GrantMode } from '../grant/grant.types';

export const TENANT_STATUSES = ['Active', 'Suspended', 'Offboarded'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

/** Which sensitive operations need approvals, and how many people in all (requester included). */
export interface DualControlPolicy {
  /** null: 2 when the tenant has at least two active tenant-admins, else 1 (with a warning). */
  readonly quorum: number | null;
  readonly operations: readonly DualControlOperation[];
}

/**
 * How a KMIP Destroy of a Deactivated or Compromised key is carried out: `pending` (the default)
 * stops every use at once and shreds after the waiting period unless cancelled; `immediate-for-owner`
 * shreds at once when the caller owns the key (an appliance retiring its volume key). Never-activated
 * keys are destroyed at once either way.
 */
export const KMIP_DESTROY_POLICIES = ['pending', 'immediate-for-owner'] as const;
export type KmipDestroyPolicy = (typeof KMIP_DESTROY_POLICIES)[number];

/** What a tenant allows beyond the safe defaults. */
export interface TenantPolicy {
  /** Let Compromised keys still decrypt and verify (to recover data); off by default. */
  readonly allowCompromisedDecrypt: boolean;
  /** Let legacy key types (3DES, KMIP only) encrypt and decrypt; off by default (they can still be created, registered and fetched). */
  readonly allowLegacyEncryption?: boolean;
  /**
   * Let a KMIP key use the second usage its client asked for explicitly at Create or Register (an AES
   * key whose Cryptographic Usage Mask also names MAC Generate/Verify: key reuse, KEY_REUSE in
   * key.types.ts); off by default (the key is still created, and used for its own usage only).
   */
  readonly allowKeyReuse?: boolean;
  readonly dualControl: DualControlPolicy;
  /** KMIP Destroy of Deactivated/Compromised keys; absent: `pending`. */
  readonly kmipDestroy?: KmipDestroyPolicy;
  /**
   * `required`: key-users use only the keys their grants cover; `open`: every key of the tenant.
   * Absent in logs written before grants existed, which read as `open` (grantModeOf).
   */
  readonly grants?: GrantMode;
}

/** Dual control by default for everything but offboarding (a provider decision) and grant creation (opt-in). */
export const DEFAULT_TENANT_POLICY: TenantPolicy = {
  allowCompromisedDecrypt: false,
  allowLegacyEncryption: false,
  dualControl: { quorum: null, operations: DUAL_CONTROL_OPERATIONS.filter((op) => op !== 'tenant.offboard' && op !== 'grant.create') },
};

/** What tenants onboarded from now on get unless the provider says otherwise. */
export const DEFAULT_GRANT_MODE: GrantMode = 'required';

export interface TenantState {
  readonly tenantId: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly policy: TenantPolicy;
  readonly onboardedAt: string;
  readonly updatedAt: string;
}

export type TenantEventBody =
  /** `grants` is absent in logs written before grants existed: such tenants are `open`. */
  | EventBody<'tenant.onboarded.v1', { readonly tenantId: string; readonly name: string; readonly grants?: GrantMode }>
  | EventBody<'tenant.suspended.v1', { readonly tenantId: string; readonly reason: string }>
  | EventBody<'tenant.resumed.v1', { readonly tenantId: string }>
  | EventBody<'tenant.offboarded.v1', { readonly tenantId: string }>
  | EventBody<'tenant.policy-set.v1', { readonly tenantId: string; readonly policy: TenantPolicy }>;
export type TenantEvent = TenantEventBody & Omit<DomainEvent, 'type' | 'data'>;

export type TenantCommand =
  | {
      readonly kind: 'tenant.onboard';
      readonly tenantId: string;
      readonly name: string;
      /** The tenant's grant mode; DEFAULT_GRANT_MODE when absent. */
      readonly grants?: GrantMode;
      readonly firstAdmin?: { readonly principalId: string; readonly name: string; readonly enrollmentKey?: EnrollmentKey };
    }
  | { readonly kind: 'tenant.suspend'; readonly tenantId: string; readonly reason?: string }
  | { readonly kind: 'tenant.resume'; readonly tenantId: string }
  | { readonly kind: 'tenant.offboard'; readonly tenantId: string }
  | { readonly kind: 'tenant.set-policy'; readonly tenantId: string; readonly policy: Partial<TenantPolicy> };

const TENANT_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._&'-]{0,127}$/u;

export function decideTenant(command: TenantCommand, tenant: TenantState | undefined): TenantEventBody[] {
  const { tenantId } = command;
  if (command.kind === 'tenant.onboard') {
    if (tenant !== undefined) refuse('already-exists', `tenant ${tenantId} already exists`, { tenantId });
    const name = command.name.trim();
    if (!TENANT_NAME.test(name)) refuse('invalid', "tenant name must be 1-128 letters, digits, spaces or . _ & ' -");
    const grants = command.grants ?? DEFAULT_GRANT_MODE;
    if (!GRANT_MODES.includes(grants)) refuse('invalid', `grants must be one of ${GRANT_MODES.join(', ')}`);
    return [{ type: 'tenant.onboarded.v1', data: { tenantId, name, grants } }];
  }
  if (tenant === undefined) return refuse('not-found', `tenant ${tenantId} not found`, { tenantId });
  const illegal = (action: string): never =>
    refuse('illegal-transition', `cannot ${action} a tenant that is ${tenant.status}`, { tenantId, status: tenant.status });
  switch (command.kind) {
    case 'tenant.suspend':
      if (tenant.status !== 'Active') illegal('suspend');
      return [{ type: 'tenant.suspended.v1', data: { tenantId, reason: (command.reason ?? '').trim().slice(0, 512) } }];
    case 'tenant.resume':
      if (tenant.status !== 'Suspended') illegal('resume');
      return [{ type: 'tenant.resumed.v1', data: { tenantId } }];
    case 'tenant.offboard':
      if (tenant.status === 'Offboarded') illegal('offboard');
      return [{ type: 'tenant.offboarded.v1', data: { tenantId } }];
    case 'tenant.set-policy': {
      if (tenant.status !== 'Active') {
        refuse('tenant-inactive', `tenant is ${tenant.status.toLowerCase()}`, { tenantId, status: tenant.status });
      }
      const current = { ...DEFAULT_TENANT_POLICY, ...tenant.policy };
      const policy: TenantPolicy = { ...current, ...command.policy };
      if (policy.grants !== undefined && !GRANT_MODES.includes(policy.grants))
        refuse('invalid', `grants must be one of ${GRANT_MODES.join(', ')}`);
      const { quorum, operations } = policy.dualControl;
      if (quorum !== null && (!Number.isInteger(quorum) || quorum < 1 || quorum > MAX_QUORUM)) {
        refuse('invalid', `dualControl.quorum must be null or an integer from 1 to ${MAX_QUORUM}`);
      }
      if (operations.some((op) => !DUAL_CONTROL_OPERATIONS.includes(op) || op === 'tenant.offboard')) {
        refuse('invalid', 'dualControl.operations lists an operation a tenant cannot put under dual control');
      }
      if (policy.kmipDestroy !== undefined && !KMIP_DESTROY_POLICIES.includes(policy.kmipDestroy)) {
        refuse('invalid', `kmipDestroy must be one of ${KMIP_DESTROY_POLICIES.join(', ')}`);
      }
      const changed = JSON.stringify(policy) !== JSON.stringify(current);
      return changed ? [{ type: 'tenant.policy-set.v1', data: { tenantId, policy } }] : [];
    }
  }
}

export function evolveTenant(tenant: TenantState | undefined, event: TenantEvent): TenantState | undefined {
  switch (event.type) {
    case 'tenant.onboarded.v1':
      return {
        tenantId: event.data.tenantId,
        name: event.data.name,
        status: 'Active',
        policy: withGrantMode(DEFAULT_TENANT_POLICY, event.data.grants),
        onboardedAt: event.at,
        updatedAt: event.at,
      };
    case 'tenant.suspended.v1':
      return tenant && { ...tenant, status: 'Suspended', updatedAt: event.at };
    case 'tenant.resumed.v1':
      return tenant && { ...tenant, status: 'Active', updatedAt: event.at };
    case 'tenant.offboarded.v1':
      return tenant && { ...tenant, status: 'Offboarded', updatedAt: event.at };
    case 'tenant.policy-set.v1':
      // A policy set before grants existed names no mode: the tenant keeps the one it had.
      if (tenant === undefined) return undefined;
      return {
        ...tenant,
        policy: withGrantMode({ ...DEFAULT_TENANT_POLICY, ...event.data.policy }, event.data.policy.grants ?? tenant.policy.grants),
        updatedAt: event.at,
      };
  }
}

/** The policy with this grant mode; none (a log from before grants) leaves the field out, which reads as open. */
function withGrantMode(policy: TenantPolicy, grants: GrantMode | undefined): TenantPolicy {
  const { grants: _previous, ...rest } = policy;
  return grants === undefined ? rest : { ...rest, grants };
}
