import { Injectable, Logger } from '@nestjs/common';
import { ApiKeyAuthenticator, CredentialStore, type CertificateBinding } from '@keyward/auth';
import { ProblemError } from '@keyward/platform';
import type { Origin } from '../commands/commands';

export interface CertificateBindingAnswer {
  readonly principalId: string;
  readonly certificate: CertificateBinding | null;
}

/**
 * Binds a principal's API keys to a client certificate (stored with the credentials, not in the
 * event log). Takes effect at once on this key-api instance and within the credential cache
 * lifetime (5 s) on the others.
 */
@Injectable()
export class CertificateBindings {
  private readonly logger = new Logger('certificate-binding');

  constructor(
    private readonly credentials: CredentialStore,
    private readonly authenticator: ApiKeyAuthenticator,
  ) {}

  async bind(
    principalId: string,
    wanted: { fingerprint?: string; subject?: string } | null,
    origin: Origin,
  ): Promise<CertificateBindingAnswer> {
    const tenantId = origin.principal.tenantId;
    const binding: CertificateBinding | null = wanted
      ? {
          ...(wanted.fingerprint === undefined ? {} : { fingerprint: wanted.fingerprint }),
          ...(wanted.subject === undefined ? {} : { subject: wanted.subject }),
          boundAt: new Date().toISOString(),
          boundBy: origin.principal.principalId,
        }
      : null;
    const found = await this.credentials.bindCertificate(tenantId, principalId, binding);
    // The same answer for a revoked, unknown or foreign principal: tenants never learn about each other.
    if (found === 0) throw new ProblemError(404, 'not-found', 'Not found', `principal ${principalId} not found`);
    this.authenticator.forgetPrincipal(principalId);
    this.logger.log(
      {
        tenant: tenantId,
        principal: principalId,
        by: origin.principal.principalId,
        requestId: origin.requestId,
        fingerprint: binding?.fingerprint,
        subject: binding?.subject,
      },
      binding ? 'principal bound to a client certificate' : 'principal unbound from its client certificate',
    );
    return { principalId, certificate: binding };
  }
}
