export const ROLES = ['provider-admin', 'tenant-admin', 'key-user', 'auditor', 'kmip-client'] as const;
export type Role = (typeof ROLES)[number];

/** Who did something: recorded on every event. */
export interface Actor {
  readonly principalId: string;
  readonly role: Role;
}

/** Roles a tenant-admin may hand out to the tenant's own principals. */
/**
 * A `kmip-client` is an appliance identity: it creates, uses, revokes and destroys the keys it owns
 * (key.ownership.ts), nothing else of the tenant.
 */
export const TENANT_ROLES = ['tenant-admin', 'key-user', 'auditor', 'kmip-client'] as const satisfies readonly Role[];
export type TenantRole = (typeof TENANT_ROLES)[number];
