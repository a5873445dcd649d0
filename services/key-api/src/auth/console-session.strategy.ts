import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { ApiKeyAuthenticator, certificateMatches, presentedCertificate, SessionStore, type AuthenticatedPrincipal } from '@keyward/auth';
import { ProblemError } from '@keyward/platform';
import { AbuseLimits } from './abuse-limits';
import { clientCertificateRequired, invalidToken } from './auth-problems';
import { CertificateBindings } from './certificate-bindings';
import { csrfHolds, sessionCookieOf } from './session-cookie';

/**
 * passport strategy `console-session`: the console's session cookie, another way to present the
 * same credential. The session names the API key that opened it; each request re-checks that key
 * (disabled when its principal is revoked), its certificate binding and, for anything but a read,
 * the CSRF token. The principal it answers then goes through the same rate limits and role checks
 * as a bearer API key (request-authenticator.ts).
 */
@Injectable()
export class ConsoleSessionStrategy extends PassportStrategy(Strategy, 'console-session') {
  constructor(
    private readonly sessions: SessionStore,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly limits: AbuseLimits,
    private readonly certificates: CertificateBindings,
  ) {
    super();
  }

  async validate(request: FastifyRequest): Promise<AuthenticatedPrincipal> {
    const token = sessionCookieOf(request) ?? '';
    const session = await this.sessions.find(token);
    if (!session) {
      this.limits.sessionRefused(request.ip);
      throw invalidToken('the console session is not valid (signed out, expired or unknown): sign in again');
    }
    if (!csrfHolds(request, token)) {
      throw new ProblemError(403, 'csrf-refused', 'Forbidden', 'a request made with the session cookie must carry its x-csrf-token header');
    }
    const principal = await this.authenticator.reauthenticate(session.credentialId);
    if (!principal) {
      await this.sessions.close(session._id);
      this.limits.sessionRefused(request.ip);
      throw invalidToken('the console session is not valid (signed out, expired or unknown): sign in again');
    }
    const bound = await this.certificates.bindingOf(principal.tenantId, principal.principalId);
    if (bound && !certificateMatches(bound, presentedCertificate(request.raw.socket))) throw clientCertificateRequired();
    return { ...principal, sessionId: session._id };
  }
}
