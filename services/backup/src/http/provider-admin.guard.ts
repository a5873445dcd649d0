import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiKeyAuthenticator, CredentialStore } from '@keyward/auth';
import { PROVIDER_LOG } from '@keyward/domain';
import { MongoConnection, ProblemError, PUBLIC_ROUTE } from '@keyward/platform';

const unauthenticated = (detail: string): ProblemError =>
  new ProblemError(401, 'unauthenticated', 'Authentication required', detail, {}, { 'www-authenticate': 'Bearer' });

/**
 * The backup service's only callers are provider-admins with an API key (the same credentials as
 * key-api). Every route not marked @Public needs one; anything else (no key, an unknown, revoked
 * or malformed key, another role) is refused, and a database it cannot ask refuses too (503).
 */
@Injectable()
export class ProviderAdminGuard implements CanActivate {
  private readonly authenticator: ApiKeyAuthenticator;

  constructor(
    private readonly reflector: Reflector,
    mongo: MongoConnection,
  ) {
    this.authenticator = new ApiKeyAuthenticator(new CredentialStore(mongo.db));
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match?.[1]) throw unauthenticated('send a provider-admin API key as "Authorization: Bearer kw_…"');
    const principal = await this.authenticator.authenticate(match[1]);
    if (!principal) throw unauthenticated('the API key is not valid');
    if (principal.role !== 'provider-admin' || principal.tenantId !== PROVIDER_LOG) {
      throw new ProblemError(403, 'forbidden', 'Forbidden', 'backups are managed by provider-admins only');
    }
    return true;
  }
}
