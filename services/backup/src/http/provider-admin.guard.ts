import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiKeyAuthenticator, CredentialStore, deriveCredentialMacKey } from '@keyward/auth';
import type { KeywardConfig } from '@keyward/config';
import { PROVIDER_LOG } from '@keyward/domain';
import { KEYWARD_CONFIG, MongoConnection, ProblemError, PUBLIC_ROUTE } from '@keyward/platform';
import { configuredRootKey } from '../core/backup-keys';

const unauthenticated = (detail: string): ProblemError =>
  new ProblemError(401, 'unauthenticated', 'Authentication required', detail, {}, { 'www-authenticate': 'Bearer' });

/**
 * The backup service's only callers are provider-admins with an API key (the same credentials as
 * key-api). Every route not marked @Public needs one; anything else (no key, an unknown, revoked
 * or malformed key, another role) is refused, and a database it cannot ask refuses too (503).
 * With the root key configured here (file or development key) a credential document whose MAC
 * does not verify is refused like key-api refuses it; without it (Shamir unsealing) this service
 * cannot check MACs and says so at start.
 */
@Injectable()
export class ProviderAdminGuard implements CanActivate {
  private readonly authenticator: ApiKeyAuthenticator;
  private readonly logger = new Logger('security');
  private macKey: Buffer | undefined;

  constructor(
    private readonly reflector: Reflector,
    mongo: MongoConnection,
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
  ) {
    this.authenticator = new ApiKeyAuthenticator(new CredentialStore(mongo.db)).useIntegrity(
      () => this.credentialMacKey(),
      (doc) => this.logger.warn(`SECURITY: refused credential ${doc._id} (principal ${doc.principalId}): its MAC does not verify`),
    );
    if (this.credentialMacKey() === undefined) {
      this.logger.warn('no root key configured here: credential MACs are not checked by the backup service');
    }
  }

  /** Derived once from the configured root key, when there is one to read. */
  private credentialMacKey(): Buffer | undefined {
    if (this.macKey) return this.macKey;
    const root = configuredRootKey(this.config);
    if (root === null) return undefined;
    this.macKey = deriveCredentialMacKey(root);
    root.fill(0);
    return this.macKey;
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
