import type { Role } from '@keyward/domain';

/** Who is calling, as authentication established it. The tenant always comes from here. */
export interface AuthenticatedPrincipal {
  readonly principalId: string;
  /** The tenant the principal belongs to; `provider` for provider-admins. */
  readonly tenantId: string;
  readonly role: Role;
  readonly credentialId: string;
  /**
   * Set while sealed: the credential's MAC could not be checked (no root key). Only the unseal
   * routes accept such a principal; everything else answers 503 sealed.
   */
  readonly credentialUnverified?: true;
  /**
   * Set when the request authenticated with a console session cookie rather than the credential
   * itself: the id of that session (the SHA-256 of its token, never the token).
   */
  readonly sessionId?: string;
}
