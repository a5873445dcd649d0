import type { AuthenticatedPrincipal } from '@keyward/auth';
import { PROVIDER_LOG } from '@keyward/domain';
import { ProblemError } from '@keyward/platform';

export const tenantNotFound = (tenantId: string): ProblemError =>
  new ProblemError(404, 'not-found', 'Not found', `tenant ${tenantId} not found`);

/**
 * The log an audit request reads. Provider-admins audit any tenant (`?tenantId=`), and the
 * provider's own log when they name none; every other role only its own tenant: naming another
 * answers 404, exactly like a tenant that does not exist.
 */
export function auditedTenant(principal: AuthenticatedPrincipal, requested: string | undefined): string {
  if (principal.role === 'provider-admin') return requested ?? PROVIDER_LOG;
  if (requested !== undefined && requested !== principal.tenantId) throw tenantNotFound(requested);
  return principal.tenantId;
}
