import type { Role } from '@keyward/domain';

/** Who is calling, as authentication established it. The tenant always comes from here. */
export interface AuthenticatedPrincipal {
  readonly principalId: string;
  /** The tenant the principal belongs to; `provider` for provider-admins. */
  readonly tenantId: string;
  readonly role: Role;
  readonly credentialId: string;
}
