import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedPrincipal } from '@keyward/auth';
import type { KeywardConfig } from '@keyward/config';
import type { Role } from '@keyward/domain';
import { KEYWARD_CONFIG, ProblemError, PUBLIC_ROUTE, setRequestIdentity } from '@keyward/platform';
import { AbuseLimits } from '../http/limits/abuse-limits';
import { identityProviderUnavailable, invalidToken, unauthenticated } from './auth-problems';
import { ROLES } from './decorators';

/** passport `api-key`: any refusal is a 401 that does not say why, unless the strategy threw a problem. */
class ApiKeyPassportGuard extends AuthGuard('api-key') {
  override handleRequest<T>(err: unknown, user: T | false): T {
    if (err instanceof ProblemError) throw err;
    if (err || !user) throw invalidToken('the API key is not valid');
    return user;
  }
}

/** passport `oidc-jwt`: says which check refused the token, never more. */
class OidcPassportGuard extends AuthGuard('oidc-jwt') {
  constructor(private readonly limits: AbuseLimits) {
    super();
  }

  override handleRequest<T>(err: unknown, user: T | false, info: unknown): T {
    if (err || !user) this.limits.tokenRefused();
    if (err instanceof ProblemError) throw err;
    if (err || !user) throw jwtRefusal(info);
    return user;
  }
}

function jwtRefusal(info: unknown): ProblemError {
  const error = info instanceof Error ? (info as Error & { isEndpointUnavailable?: boolean }) : undefined;
  if (error?.isEndpointUnavailable === true) return identityProviderUnavailable();
  if (error?.name === 'TokenExpiredError') return invalidToken('the token has expired');
  if (error?.name === 'NotBeforeError') return invalidToken('the token is not valid yet');
  return invalidToken('the token is not valid (signature, signing key, algorithm, issuer or audience)');
}

const API_KEY_SHAPE = /^kw_/;
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Every route is authenticated unless marked @Public, rate-limited per principal and tenant, and
 * role-checked against @Roles. A route without @Roles is refused to everyone: forgetting it fails
 * closed. The bearer token's shape picks the strategy: `kw_…` is an API key, `eyJ…` a JWT (only
 * when OIDC is configured).
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  private readonly apiKey = new ApiKeyPassportGuard();
  private readonly jwt: OidcPassportGuard | undefined;

  constructor(
    private readonly reflector: Reflector,
    private readonly limits: AbuseLimits,
    @Inject(KEYWARD_CONFIG) config: KeywardConfig,
  ) {
    this.jwt = config.auth.oidc ? new OidcPassportGuard(limits) : undefined;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthenticatedPrincipal }>();
    const token = bearerToken(request.headers.authorization);
    const strategy =
      token === undefined ? undefined : API_KEY_SHAPE.test(token) ? this.apiKey : JWT_SHAPE.test(token) ? this.jwt : undefined;
    if (!strategy)
      throw token !== undefined && JWT_SHAPE.test(token)
        ? invalidToken('JWTs are not accepted: OIDC is not configured')
        : unauthenticated(this.jwt !== undefined);
    await strategy.canActivate(context);
    const principal = request.user;
    if (!principal) throw unauthenticated(this.jwt !== undefined);
    setRequestIdentity(request.raw, { tenantId: principal.tenantId, principalId: principal.principalId, role: principal.role });
    this.limits.takeRequest(principal);
    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets) ?? [];
    if (!allowed.includes(principal.role)) {
      throw new ProblemError(403, 'forbidden-role', 'Forbidden', `role ${principal.role} may not call this operation`, {
        allowedRoles: allowed,
      });
    }
    return true;
  }
}

/** The token of `Authorization: Bearer <token>`; only the header counts (never the query or the body). */
function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer +(\S+)$/i.exec(header.trim());
  return match?.[1];
}
