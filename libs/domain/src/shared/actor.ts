export const ROLES = ['provider-admin', 'tenant-admin', 'key-user', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Who did something: recorded on every event. */
export interface Actor {
  readonly principalId: string;
  readonly role: Role;
}

/** Roles a tenant-admin may hand out to the tenant's own principals. */
export const TENANT_ROLES = ['tenant-admin', 'key-user', 'auditor'] as const satisfies readonly Role[];
export type TenantRole = (typeof TENANT_ROLES)[number];
