import type { PeerCertificate } from 'node:tls';
import { certificateMatches, peerSubject, type AuthenticatedPrincipal } from '@keyward/auth';
import type { TenantLog } from '@keyward/domain';

/**
 * Which principal a verified client certificate claims to be: subject `O=<tenantId>` and
 * `CN=<principalId>`, issued by a CA in KMIP_CLIENT_CA. The subject only names where to look:
 * the principal is authenticated when its binding in the tenant's log (PUT
 * /v1/principals/{id}/certificate) carries this certificate's SHA-256 fingerprint. Subject text
 * alone is never enough: any CA in the bundle can write any subject, none can reproduce a
 * fingerprint. The role is the principal's role in the tenant's log, never the certificate's.
 */
export interface CertificateIdentity {
  readonly tenantId: string;
  readonly principalId: string;
  /** SHA-256 of the certificate's DER, lowercase hex. */
  readonly fingerprint: string;
  /** Sorted `TYPE=value` attributes of the subject (for bindings that also name a subject). */
  readonly subjectAttributes: readonly string[];
}

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? undefined : value);

/** The identity a verified peer certificate claims, or why there is none. */
export function identityOf(cert: PeerCertificate | undefined): CertificateIdentity | string {
  if (cert === undefined || Object.keys(cert).length === 0) return 'no client certificate';
  const subject = cert.subject as Record<string, string | string[] | undefined> | undefined;
  const tenantId = first(subject?.O);
  const principalId = first(subject?.CN);
  if (tenantId === undefined || principalId === undefined)
    return 'the client certificate subject needs exactly one O=<tenantId> and one CN=<principalId>';
  return {
    tenantId,
    principalId,
    fingerprint: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
    subjectAttributes: peerSubject(subject),
  };
}

/**
 * The principal, when the tenant's log knows it, it is not revoked, and it is bound to exactly
 * this certificate by fingerprint; otherwise why not (the same words whether the principal is
 * unknown or bound elsewhere, so a certificate cannot probe for principal ids).
 */
export function principalOf(identity: CertificateIdentity, log: TenantLog): AuthenticatedPrincipal | string {
  if (log.tenant === undefined) return `unknown tenant ${identity.tenantId}`;
  const principal = log.principals.get(identity.principalId);
  const bound = log.certificates.get(identity.principalId);
  // By fingerprint: a binding by subject alone would again let any CA in the bundle mint the identity.
  if (principal === undefined || bound?.fingerprint === undefined || !certificateMatches(bound, identity)) {
    return `no principal ${identity.principalId} is bound to this certificate (bind its SHA-256 fingerprint: PUT /v1/principals/{id}/certificate)`;
  }
  if (principal.revokedAt !== null) return `principal ${identity.principalId} is revoked`;
  return {
    principalId: principal.principalId,
    tenantId: identity.tenantId,
    role: principal.role,
    credentialId: `cert:${identity.fingerprint}`,
  };
}
