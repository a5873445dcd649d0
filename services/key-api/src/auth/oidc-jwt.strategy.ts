import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { presentedCertificate, principalFromClaims, type AuthenticatedPrincipal } from '@keyward/auth';
import type { OidcSetting } from '@keyward/config';
import { clientCertificateRequired, invalidToken } from './auth-problems';

/** Fetches of OIDC_JWKS_URL allowed per minute: unknown `kid`s cannot make key-api hammer the identity provider. */
const JWKS_FETCHES_PER_MINUTE = 10;

/**
 * passport strategy `oidc-jwt`: `Authorization: Bearer <JWT>` signed by a key of the identity
 * provider's JWKS (RS256/ES256 only), with the configured issuer and audience, an `exp`, and claims
 * naming a tenant and a role of that tenant. Made only when OIDC_JWKS_URL is set.
 */
export class OidcJwtStrategy extends PassportStrategy(Strategy, 'oidc-jwt') {
  constructor(private readonly oidc: OidcSetting) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: passportJwtSecret({
        jwksUri: oidc.jwksUrl,
        cache: true,
        cacheMaxAge: oidc.jwksCacheMs,
        cacheMaxEntries: 20,
        rateLimit: true,
        jwksRequestsPerMinute: JWKS_FETCHES_PER_MINUTE,
        timeout: 5_000,
      }),
      issuer: oidc.issuer,
      audience: oidc.audience,
      algorithms: [...oidc.algorithms],
      // passport-jwt's documented way to hand jsonwebtoken more options; only its typings call it deprecated.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      jsonWebTokenOptions: { clockTolerance: Math.floor(oidc.clockToleranceMs / 1000) },
      passReqToCallback: true,
    });
  }

  validate(request: FastifyRequest, payload: unknown): AuthenticatedPrincipal {
    const claims = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
    const outcome = principalFromClaims(claims, this.oidc);
    if (!outcome.ok) throw invalidToken(outcome.reason);
    if (outcome.certificateThumbprint !== undefined) {
      // RFC 8705: a certificate-bound token is only good on a connection presenting that certificate.
      if (presentedCertificate(request.raw.socket)?.thumbprint !== outcome.certificateThumbprint) throw clientCertificateRequired();
    }
    return outcome.principal;
  }
}
