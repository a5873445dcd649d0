import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedPrincipal } from '@keyward/auth';
import type { Role } from '@keyward/domain';
import { ProblemError, PUBLIC_ROUTE, setRequestIdentity } from '@keyward/platform';
import { ROLES } from './decorators';

const PassportApiKey = AuthGuard('api-key');

/**
 * Every route is authenticated unless marked @Public, and role-checked against @Roles.
 * A route without @Roles is refused to everyone: forgetting it fails closed.
 */
@Injectable()
export class AuthenticationGuard extends PassportApiKey implements CanActivate {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, targets)) return true;
    await super.canActivate(context);
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthenticatedPrincipal }>();
    const principal = request.user;
    if (!principal) throw unauthenticated();
    setRequestIdentity(request.raw, { tenantId: principal.tenantId, principalId: principal.principalId, role: principal.role });
    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets) ?? [];
    if (!allowed.includes(principal.role)) {
      throw new ProblemError(403, 'forbidden-role', 'Forbidden', `role ${principal.role} may not call this operation`, {
        allowedRoles: allowed,
      });
    }
    return true;
  }

  override handleRequest<T>(err: unknown, user: T | false): T {
    if (err || !user) throw unauthenticated();
    return user;
  }
}

function unauthenticated(): ProblemError {
  return new ProblemError(
    401,
    'unauthenticated',
    'Authentication required',
    'send a valid API key as "Authorization: Bearer kw_…"',
    {},
    { 'www-authenticate': 'Bearer realm="keyward"' },
  );
}
