import type { Role } from '../shared/actor';
import { refuse } from '../shared/domain-error';
import type { DomainEvent, EventBody } from '../shared/event';
import {
  decideEnrollment,
  evolveEnrollment,
  type EnrollmentCommand,
  type EnrollmentEventBody,
  type EnrollmentKey,
  type PendingEnrollment,
} from './enrollment';

export interface PrincipalState {
  readonly principalId: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly revokedAt: string | null;
  /** The public key its API key is to be wrapped under at enrollment (when the request named one). */
  readonly enrollmentKey?: EnrollmentKey;
  /** The enrollment token in force (its SHA-256 only), until it is redeemed or replaced. */
  readonly enrollment?: PendingEnrollment;
  /** When the principal redeemed its enrollment token and received its API key. */
  readonly enrolledAt?: string;
}

export type PrincipalEventBody =
  | EventBody<
      'principal.created.v1',
      { readonly principalId: string; readonly name: string; readonly role: Role; readonly enrollmentKey?: EnrollmentKey }
    >
  | EventBody<'principal.revoked.v1', { readonly principalId: string }>
  | EnrollmentEventBody;
export type PrincipalEvent = PrincipalEventBody & Omit<DomainEvent, 'type' | 'data'>;

export type PrincipalCommand =
  | {
      readonly kind: 'principal.create';
      readonly principalId: string;
      readonly name: string;
      readonly role: Role;
      readonly enrollmentKey?: EnrollmentKey;
    }
  | { readonly kind: 'principal.revoke'; readonly principalId: string }
  | EnrollmentCommand;

const PRINCIPAL_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,127}$/;

export function decidePrincipal(command: PrincipalCommand, principal: PrincipalState | undefined, now?: Date): PrincipalEventBody[] {
  const { principalId } = command;
  if (command.kind === 'principal.create') {
    if (principal !== undefined) refuse('already-exists', `principal ${principalId} already exists`);
    if (!PRINCIPAL_NAME.test(command.name)) refuse('invalid', 'principal name must be 1-128 characters of A-Z a-z 0-9 space . _ @ -');
    const key = command.enrollmentKey ? { enrollmentKey: command.enrollmentKey } : {};
    return [{ type: 'principal.created.v1', data: { principalId, name: command.name, role: command.role, ...key } }];
  }
  if (command.kind === 'principal.issue-enrollment' || command.kind === 'principal.enroll') {
    return decideEnrollment(command, principal, now ?? refuse('invalid', 'enrollment decisions need the time'));
  }
  if (principal === undefined) return refuse('not-found', `principal ${principalId} not found`);
  if (principal.revokedAt !== null) refuse('illegal-transition', 'principal is already revoked');
  return [{ type: 'principal.revoked.v1', data: { principalId } }];
}

export function evolvePrincipal(principal: PrincipalState | undefined, event: PrincipalEvent): PrincipalState | undefined {
  switch (event.type) {
    case 'principal.created.v1': {
      const { principalId, name, role, enrollmentKey } = event.data;
      return { principalId, name, role, createdAt: event.at, revokedAt: null, ...(enrollmentKey ? { enrollmentKey } : {}) };
    }
    case 'principal.revoked.v1':
      return principal && { ...principal, revokedAt: event.at };
    case 'principal.enrollment-issued.v1':
    case 'principal.enrolled.v1':
      return principal && evolveEnrollment(principal, event);
  }
}
