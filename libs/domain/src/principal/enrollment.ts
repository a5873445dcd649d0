import { refuse } from '../shared/domain-error';
import type { DomainEvent, EventBody } from '../shared/event';
import type { PrincipalState } from './principal';

/**
 * Enrollment: a new principal receives its API key itself. Whoever creates it (requester,
 * approver, provider) receives only a one-time token; the log holds the token's SHA-256, its
 * expiry and, when the request named one, the public key the API key is wrapped under. The
 * principal redeems the token once (`principal.enrolled.v1`, with the request's origin), and only
 * then is its API key issued.
 */
export interface EnrollmentKey {
  /** `sha256:<hex>` of the DER SubjectPublicKeyInfo: what approvers compare with the new principal. */
  readonly fingerprint: string;
  /** The RSA public key, base64 DER SubjectPublicKeyInfo. */
  readonly spki: string;
}

export interface PendingEnrollment {
  readonly tokenHash: string;
  readonly expiresAt: string;
  readonly issuedAt: string;
  readonly redeemedAt?: string;
}

/** Where a redemption came from (recorded, never a secret). */
export interface EnrollmentOrigin {
  readonly address: string;
  readonly userAgent?: string;
}

export type EnrollmentEventBody =
  | EventBody<
      'principal.enrollment-issued.v1',
      { readonly principalId: string; readonly tokenHash: string; readonly expiresAt: string; readonly enrollmentKey?: EnrollmentKey }
    >
  | EventBody<'principal.enrolled.v1', { readonly principalId: string; readonly from: EnrollmentOrigin }>;
export type EnrollmentEvent = EnrollmentEventBody & Omit<DomainEvent, 'type' | 'data'>;

export type EnrollmentCommand =
  | {
      readonly kind: 'principal.issue-enrollment';
      readonly principalId: string;
      readonly tokenHash: string;
      readonly expiresAt: string;
      /** A new public key to wrap under; unset: the one the principal was created with, if any. */
      readonly enrollmentKey?: EnrollmentKey;
    }
  | { readonly kind: 'principal.enroll'; readonly principalId: string; readonly tokenHash: string; readonly from: EnrollmentOrigin };

/** Why a redemption was refused: `used` is said plainly; wrong, expired, revoked or unknown all say `invalid`. */
export type EnrollmentRefusal = 'invalid' | 'used';

const TOKEN_HASH = /^[0-9a-f]{64}$/;

const invalidToken = (): never =>
  refuse('invalid', 'the enrollment token is not valid or has expired', { enrollment: 'invalid' satisfies EnrollmentRefusal });

export function decideEnrollment(command: EnrollmentCommand, principal: PrincipalState | undefined, now: Date): EnrollmentEventBody[] {
  const { principalId } = command;
  if (command.kind === 'principal.issue-enrollment') {
    if (principal === undefined) return refuse('not-found', `principal ${principalId} not found`);
    if (principal.revokedAt !== null) refuse('illegal-transition', 'principal is revoked');
    if (principal.enrolledAt !== undefined) {
      refuse('illegal-transition', 'principal has enrolled already: revoke it and create a new one to replace its API key');
    }
    if (!TOKEN_HASH.test(command.tokenHash)) refuse('invalid', 'tokenHash must be a SHA-256 in hex');
    if (!(Date.parse(command.expiresAt) > now.getTime())) refuse('invalid', 'an enrollment must expire in the future');
    const key = command.enrollmentKey ?? principal.enrollmentKey;
    return [
      {
        type: 'principal.enrollment-issued.v1',
        data: { principalId, tokenHash: command.tokenHash, expiresAt: command.expiresAt, ...(key ? { enrollmentKey: key } : {}) },
      },
    ];
  }
  const enrollment = principal?.enrollment;
  if (principal === undefined || enrollment === undefined || enrollment.tokenHash !== command.tokenHash) return invalidToken();
  if (enrollment.redeemedAt !== undefined) {
    refuse('illegal-transition', 'this enrollment token has been redeemed already', { enrollment: 'used' satisfies EnrollmentRefusal });
  }
  if (principal.revokedAt !== null || Date.parse(enrollment.expiresAt) <= now.getTime()) return invalidToken();
  const from: EnrollmentOrigin = {
    address: command.from.address.slice(0, 64),
    ...(command.from.userAgent ? { userAgent: command.from.userAgent.slice(0, 256) } : {}),
  };
  return [{ type: 'principal.enrolled.v1', data: { principalId, from } }];
}

export function evolveEnrollment(principal: PrincipalState, event: EnrollmentEvent): PrincipalState {
  if (event.type === 'principal.enrollment-issued.v1') {
    const { tokenHash, expiresAt, enrollmentKey } = event.data;
    return { ...principal, enrollment: { tokenHash, expiresAt, issuedAt: event.at }, ...(enrollmentKey ? { enrollmentKey } : {}) };
  }
  const enrollment = principal.enrollment && { ...principal.enrollment, redeemedAt: event.at };
  return { ...principal, enrolledAt: event.at, ...(enrollment ? { enrollment } : {}) };
}

/** Whether a refused redemption was a reuse (said plainly) rather than anything else (one answer for all). */
export function enrollmentRefusal(details: Readonly<Record<string, unknown>>): EnrollmentRefusal {
  return details.enrollment === 'used' ? 'used' : 'invalid';
}
