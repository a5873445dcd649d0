import type { Role } from '../shared/actor';
import { refuse } from '../shared/domain-error';
import type { DomainEvent, EventBody } from '../shared/event';

export interface PrincipalState {
  readonly principalId: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export type PrincipalEventBody =
  | EventBody<'principal.created.v1', { readonly principalId: string; readonly name: string; readonly role: Role }>
  | EventBody<'principal.revoked.v1', { readonly principalId: string }>;
export type PrincipalEvent = PrincipalEventBody & Omit<DomainEvent, 'type' | 'data'>;

export type PrincipalCommand =
  | { readonly kind: 'principal.create'; readonly principalId: string; readonly name: string; readonly role: Role }
  | { readonly kind: 'principal.revoke'; readonly principalId: string };

const PRINCIPAL_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,127}$/;

export function decidePrincipal(command: PrincipalCommand, principal: PrincipalState | undefined): PrincipalEventBody[] {
  const { principalId } = command;
  if (command.kind === 'principal.create') {
    if (principal !== undefined) refuse('already-exists', `principal ${principalId} already exists`);
    if (!PRINCIPAL_NAME.test(command.name)) refuse('invalid', 'principal name must be 1-128 characters of A-Z a-z 0-9 space . _ @ -');
    return [{ type: 'principal.created.v1', data: { principalId, name: command.name, role: command.role } }];
  }
  if (principal === undefined) return refuse('not-found', `principal ${principalId} not found`);
  if (principal.revokedAt !== null) refuse('illegal-transition', 'principal is already revoked');
  return [{ type: 'principal.revoked.v1', data: { principalId } }];
}

export function evolvePrincipal(principal: PrincipalState | undefined, event: PrincipalEvent): PrincipalState | undefined {
  switch (event.type) {
    case 'principal.created.v1':
      return { principalId: event.data.principalId, name: event.data.name, role: event.data.role, createdAt: event.at, revokedAt: null };
    case 'principal.revoked.v1':
      return principal && { ...principal, revokedAt: event.at };
  }
}
