import { ID_PATTERN, ROLES, TENANT_ROLES, type Role } from '@keyward/domain';
import type { AuthenticatedPrincipal } from '../principal';

export interface OidcClaimNames {
  readonly tenantClaim: string;
  readonly roleClaim: string;
}

/** The tenant id of provider-admins. */
export const PROVIDER_TENANT = 'provider';

const SUBJECT = /^[\x21-\x7e]{1,255}$/;

/** What a verified JWT's claims make of the caller, or why they make nobody. */
export type ClaimsOutcome =
  | { readonly ok: true; readonly principal: AuthenticatedPrincipal; readonly certificateThumbprint?: string }
  | { readonly ok: false; readonly reason: string };

/**
 * Maps the claims of a JWT whose signature, issuer, audience and lifetime were already verified to
 * a principal `oidc:<sub>`: the tenant and the role come from their claims, and must agree
 * (provider-admin exactly when the tenant is `provider`). A `cnf` claim with `x5t#S256`
 * (RFC 8705) binds the token to the client certificate it names.
 */
export function principalFromClaims(claims: Readonly<Record<string, unknown>>, names: OidcClaimNames): ClaimsOutcome {
  const { sub, exp } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return { ok: false, reason: 'the token has no exp claim' };
  if (typeof sub !== 'string' || !SUBJECT.test(sub)) return { ok: false, reason: 'the token has no usable sub claim' };
  const tenantId = claims[names.tenantClaim];
  const role = claims[names.roleClaim];
  if (typeof tenantId !== 'string' || (tenantId !== PROVIDER_TENANT && !ID_PATTERN.test(tenantId))) {
    return { ok: false, reason: `the token has no valid ${names.tenantClaim} claim` };
  }
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    return { ok: false, reason: `the token has no valid ${names.roleClaim} claim` };
  }
  const isTenantRole = (TENANT_ROLES as readonly string[]).includes(role);
  if (tenantId === PROVIDER_TENANT ? role !== 'provider-admin' : !isTenantRole) {
    return { ok: false, reason: `role ${role} does not belong to ${tenantId === PROVIDER_TENANT ? 'the provider' : 'a tenant'}` };
  }
  const cnf = claims.cnf;
  let certificateThumbprint: string | undefined;
  if (cnf !== undefined) {
    const thumbprint = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
    if (typeof thumbprint !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(thumbprint)) {
      return { ok: false, reason: 'the token has a cnf claim without a usable x5t#S256' };
    }
    certificateThumbprint = thumbprint;
  }
  const principal: AuthenticatedPrincipal = { principalId: `oidc:${sub}`, tenantId, role: role as Role, credentialId: 'oidc' };
  return certificateThumbprint === undefined ? { ok: true, principal } : { ok: true, principal, certificateThumbprint };
}
