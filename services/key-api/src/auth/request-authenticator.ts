import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthenticatedPrincipal } from '@keyward/auth';
import type { KeywardConfig } from '@keyward/config';
import type { Role } from '@keyward/domain';
import { KEYWARD_CONFIG, ProblemError, setRequestIdentity, toProblem } from '@keyward/platform';
import { sealedError } from '@keyward/keys';
import { AbuseLimits } from './abuse-limits';
import { identityProviderUnavailable, invalidToken, unauthenticated } from './auth-problems';
import { sessionCookieOf } from './session-cookie';

/**
 * A lookup that failed is not a refusal: the store away (a credential read during an outage, seen
 * in the high-availability drill) answers 503 with Retry-After, not "the API key is not valid".
 */
function rethrowUnavailable(err: unknown): void {
  if (err instanceof ProblemError) throw err;
  if (err !== null && err !== undefined && toProblem(err).problem.status === 503) throw toProblem(err).problem;
}

/** passport `api-key`: any refusal is a 401 that does not say why, unless the strategy threw a problem or the store is away. */
class ApiKeyPassportGuard extends AuthGuard('api-key') {
  override handleRequest<T>(err: unknown, user: T | false): T {
    rethrowUnavailable(err);
    if (err || !user) throw invalidToken('the API key is not valid');
    return user;
  }
}

/** passport `console-session`: the strategy's own problems (401, 403 csrf-refused) pass through, and the store being away. */
class SessionPassportGuard extends AuthGuard('console-session') {
  override handleRequest<T>(err: unknown, user: T | false): T {
    rethrowUnavailable(err);
    if (err || !user) throw invalidToken('the console session is not valid: sign in again');
    return user;
  }
}

/** passport `oidc-jwt`: says which check refused the token, never more. */
class OidcPassportGuard extends AuthGuard('oidc-jwt') {
  constructor(private readonly limits: AbuseLimits) {
    super();
  }

  override handleRequest<T>(err: unknown, user: T | false, info: unknown, context: ExecutionContext): T {
    if (err || !user) this.limits.tokenRefused(context.switchToHttp().getRequest<FastifyRequest>().ip);
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

type AuthenticatedRequest = FastifyRequest & { user?: AuthenticatedPrincipal };

/**
 * Who is calling, and may they call this route: the one authentication path of key-api, used by
 * the Nest guard and by the data-plane routes alike. The bearer token's shape picks the passport
 * strategy: `kw_…` is an API key, `eyJ…` a JWT (only when OIDC is configured); without an
 * Authorization header, the console's session cookie (console-session.strategy.ts). The caller's address
 * is rate-limited before that (AbuseLimits.admitAddress). An authenticated
 * caller is then rate-limited per principal and tenant, and role-checked: an empty `allowed` list
 * refuses everyone, so a route that forgets its roles fails closed.
 */
@Injectable()
export class RequestAuthenticator {
  private readonly apiKey = new ApiKeyPassportGuard();
  private readonly session = new SessionPassportGuard();
  private readonly jwt: OidcPassportGuard | undefined;

  constructor(
    private readonly limits: AbuseLimits,
    @Inject(KEYWARD_CONFIG) config: KeywardConfig,
  ) {
    this.jwt = config.auth.oidc ? new OidcPassportGuard(limits) : undefined;
  }

  async authenticate(
    request: FastifyRequest,
    reply: FastifyReply,
    allowed: readonly Role[],
    sealedOk = false,
  ): Promise<AuthenticatedPrincipal> {
    const token = bearerToken(request.headers.authorization);
    const strategy =
      token === undefined
        ? request.headers.authorization === undefined && sessionCookieOf(request) !== undefined
          ? this.session
          : undefined
        : API_KEY_SHAPE.test(token)
          ? this.apiKey
          : JWT_SHAPE.test(token)
            ? this.jwt
            : undefined;
    if (!strategy)
      throw token !== undefined && JWT_SHAPE.test(token)
        ? invalidToken('JWTs are not accepted: OIDC is not configured')
        : unauthenticated(this.jwt !== undefined);
    // Before any lookup: the caller's address pays for presenting a credential (and is refused
    // outright once it has failed too often), whichever key id it names.
    this.limits.admitAddress(request.ip);
    await strategy.canActivate(new ExecutionContextHost([request, reply]));
    const principal = (request as AuthenticatedRequest).user;
    if (!principal) throw unauthenticated(this.jwt !== undefined);
    setRequestIdentity(request.raw, { tenantId: principal.tenantId, principalId: principal.principalId, role: principal.role });
    this.limits.takeRequest(principal);
    if (!allowed.includes(principal.role)) {
      throw new ProblemError(403, 'forbidden-role', 'Forbidden', `role ${principal.role} may not call this operation`, {
        allowedRoles: allowed,
      });
    }
    // An API key whose MAC cannot be checked yet (sealed) may only unseal.
    if (principal.credentialUnverified && !sealedOk) throw sealedError('credentials are checked once the root key is in memory');
    return principal;
  }
}

/** The token of `Authorization: Bearer <token>`; only the header counts (never the query or the body). */
function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer +(\S+)$/i.exec(header.trim());
  return match?.[1];
}
