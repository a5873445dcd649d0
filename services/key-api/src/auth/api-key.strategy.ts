import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-http-bearer';
import { ApiKeyAuthenticator, certificateMatches, parseApiKey, presentedCertificate, type AuthenticatedPrincipal } from '@keyward/auth';
import { AbuseLimits } from './abuse-limits';
import { clientCertificateRequired } from './auth-problems';
import { CertificateBindings } from './certificate-bindings';

/**
 * passport strategy `api-key`: `Authorization: Bearer kw_…`. A key id locked out for the calling
 * address answers 429 before the key is even looked up, so the answer never tells whether it
 * exists; a principal bound to a client certificate (in its tenant's log) also needs that
 * certificate on the connection.
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, 'api-key') {
  constructor(
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly limits: AbuseLimits,
    private readonly certificates: CertificateBindings,
  ) {
    super({ passReqToCallback: true });
  }

  async validate(request: FastifyRequest, token: string): Promise<AuthenticatedPrincipal | false> {
    const parsed = parseApiKey(token);
    if (!parsed) return false;
    const address = request.ip;
    this.limits.checkLockout(address, parsed.credentialId);
    const found = await this.authenticator.authenticate(token);
    if (!found) {
      this.limits.authenticationFailed(address, parsed.credentialId);
      return false;
    }
    const bound = await this.certificates.bindingOf(found.tenantId, found.principalId);
    if (bound && !certificateMatches(bound, presentedCertificate(request.raw.socket))) {
      this.limits.authenticationFailed(address, parsed.credentialId);
      throw clientCertificateRequired();
    }
    this.limits.authenticationSucceeded(address, parsed.credentialId);
    return found;
  }
}
