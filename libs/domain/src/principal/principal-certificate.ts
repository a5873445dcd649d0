import { refuse } from '../shared/domain-error';
import type { DomainEvent, EventBody } from '../shared/event';
import type { PrincipalState } from './principal';

/**
 * A principal's binding to a client certificate, as the tenant's log records it: the principal's
 * API keys (and, by fingerprint, its KMIP connections) then work only over mutual TLS presenting
 * that certificate. `boundAt`/`boundBy` come from the event's envelope.
 */
export interface PrincipalCertificate {
  /** SHA-256 of the certificate's DER, lowercase hex: exactly one certificate. */
  readonly fingerprint?: string;
  /** Canonical subject DN (sorted attributes, RFC 4514 escapes): any trusted certificate with exactly these attributes. */
  readonly subject?: string;
  readonly boundAt: string;
  readonly boundBy: string;
}

export type PrincipalCertificateEventBody =
  | EventBody<'principal.certificate-bound.v1', { readonly principalId: string; readonly fingerprint?: string; readonly subject?: string }>
  | EventBody<'principal.certificate-unbound.v1', { readonly principalId: string }>;
export type PrincipalCertificateEvent = PrincipalCertificateEventBody & Omit<DomainEvent, 'type' | 'data'>;

export type PrincipalCertificateCommand =
  | {
      readonly kind: 'principal.bind-certificate';
      readonly principalId: string;
      readonly fingerprint?: string;
      readonly subject?: string;
    }
  | { readonly kind: 'principal.unbind-certificate'; readonly principalId: string };

export const PRINCIPAL_CERTIFICATE_COMMANDS = ['principal.bind-certificate', 'principal.unbind-certificate'] as const;

const SHA256_HEX = /^[0-9a-f]{64}$/;
// C0 and C1 controls, DEL, and the line/paragraph separators: a subject carrying one could read as another subject.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const MAX_SUBJECT = 1024;

export const isPrincipalCertificateCommand = (command: { readonly kind: string }): command is PrincipalCertificateCommand =>
  (PRINCIPAL_CERTIFICATE_COMMANDS as readonly string[]).includes(command.kind);

export const isPrincipalCertificateEvent = (event: { readonly type: string }): event is PrincipalCertificateEvent =>
  event.type === 'principal.certificate-bound.v1' || event.type === 'principal.certificate-unbound.v1';

/**
 * Binds or unbinds a principal's client certificate. The subject arrives canonical from the edge;
 * the domain still refuses control characters (a CN holding "\nO=victim" must never read as two
 * attributes) and anything that is not a SHA-256 fingerprint.
 */
export function decidePrincipalCertificate(
  command: PrincipalCertificateCommand,
  principal: PrincipalState | undefined,
  current: PrincipalCertificate | undefined,
): PrincipalCertificateEventBody[] {
  const { principalId } = command;
  // A revoked principal reads as unknown, as before: its bindings no longer matter to anyone.
  if (principal === undefined || principal.revokedAt !== null) return refuse('not-found', `principal ${principalId} not found`);
  if (command.kind === 'principal.unbind-certificate') {
    return current === undefined ? [] : [{ type: 'principal.certificate-unbound.v1', data: { principalId } }];
  }
  const { fingerprint, subject } = command;
  if (fingerprint === undefined && subject === undefined)
    refuse('invalid', 'a certificate binding needs a fingerprint, a subject, or both');
  if (fingerprint !== undefined && !SHA256_HEX.test(fingerprint)) {
    refuse('invalid', 'the fingerprint must be a SHA-256: 64 lowercase hex digits');
  }
  if (subject !== undefined && (subject.length === 0 || subject.length > MAX_SUBJECT || CONTROL.test(subject))) {
    refuse('invalid', `the subject must be 1-${MAX_SUBJECT} characters without control characters`);
  }
  return [
    {
      type: 'principal.certificate-bound.v1',
      data: { principalId, ...(fingerprint === undefined ? {} : { fingerprint }), ...(subject === undefined ? {} : { subject }) },
    },
  ];
}

/** The binding after one event (undefined: none). */
export function evolvePrincipalCertificate(event: PrincipalCertificateEvent): PrincipalCertificate | undefined {
  if (event.type === 'principal.certificate-unbound.v1') return undefined;
  const { fingerprint, subject } = event.data;
  return {
    ...(fingerprint === undefined ? {} : { fingerprint }),
    ...(subject === undefined ? {} : { subject }),
    boundAt: event.at,
    boundBy: event.actor.principalId,
  };
}
