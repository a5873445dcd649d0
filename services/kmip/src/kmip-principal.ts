import type { PeerCertificate } from 'node:tls';
import type { AuthenticatedPrincipal } from '@keyward/auth';
import type { TenantLog } from '@keyward/domain';

/**
 * Which principal a verified client certificate names. Convention (until principals can be bound to
 * certificates by fingerprint alone): subject `O=<tenantId>` and `CN=<principalId>`, issued by a CA
 * in KMIP_CLIENT_CA. The role is the principal's role in the tenant's log, never the certificate's.
 */
export interface CertificateIdentity {
  readonly tenantId: string;
  readonly principalId: string;
  readonly fingerprint: string;
}

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? undefined : value);

/** The identity in a verified peer certificate, or why there is none. */
export function identityOf(cert: PeerCertificate | undefined): CertificateIdentity | string {
  if (cert === undefined || Object.keys(cert).length === 0) return 'no client certificate';
  const subject = cert.subject as Record<string, string | string[] | undefined> | undefined;
  const tenantId = first(subject?.O);
  const principalId = first(subject?.CN);
  if (tenantId === undefined || principalId === undefined)
    return 'the client certificate subject needs exactly one O=<tenantId> and one CN=<principalId>';
  return { tenantId, principalId, fingerprint: cert.fingerprint256.replace(/:/g, '').toLowerCase() };
}

/** The principal, when the tenant's log knows it and it is not revoked; otherwise why not. */
export function principalOf(identity: CertificateIdentity, log: TenantLog): AuthenticatedPrincipal | string {
  if (log.tenant === undefined) return `unknown tenant ${identity.tenantId}`;
  const principal = log.principals.get(identity.principalId);
  if (principal === undefined) return `unknown principal ${identity.principalId}`;
  if (principal.revokedAt !== null) return `principal ${identity.principalId} is revoked`;
  return {
    principalId: principal.principalId,
    tenantId: identity.tenantId,
    role: principal.role,
    credentialId: `cert:${identity.fingerprint}`,
  };
}
