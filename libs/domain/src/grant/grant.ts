import { isOwnershipBound } from '../key/key.ownership';
import type { PrincipalState } from '../principal/principal';
import type { Actor, Role } from '../shared/actor';
import { refuse } from '../shared/domain-error';
import type { DomainEvent, EventBody } from '../shared/event';
import { ALIAS_PATTERN, ID_PATTERN, LABEL_KEY_PATTERN, MAX_LABEL_VALUE } from '../shared/ids';
import {
  GRANT_LIMITS,
  GRANT_OPERATIONS,
  GRANTEE_ROLES,
  type GrantConditions,
  type GrantSpec,
  type GrantState,
  type KeySelector,
} from './grant.types';

export type GrantCommand =
  ({ readonly kind: 'grant.create'; readonly grantId: string } & GrantSpec) | { readonly kind: 'grant.revoke'; readonly grantId: string };

export type GrantEventBody =
  | EventBody<'grant.created.v1', { readonly grantId: string } & GrantSpec>
  | EventBody<'grant.revoked.v1', { readonly grantId: string; readonly principalId: string }>;
export type GrantEvent = GrantEventBody & Omit<DomainEvent, 'type' | 'data'>;

export const isGrantCommand = (command: { readonly kind: string }): command is GrantCommand => command.kind.startsWith('grant.');
export const isGrantEvent = (event: { readonly type: string }): event is GrantEvent => event.type.startsWith('grant.');

/** What decideGrant needs from the tenant log. */
export interface GrantDecisionState {
  readonly grant: GrantState | undefined;
  readonly principal: PrincipalState | undefined;
  /** Grants in force the principal already holds. */
  readonly heldByPrincipal: number;
  readonly now: Date;
}

/** Decides a grant command. Pure: the caller (keyset's decide) supplies the grant, the principal and the time. */
export function decideGrant(command: GrantCommand, state: GrantDecisionState): GrantEventBody[] {
  const { grantId } = command;
  if (command.kind === 'grant.revoke') {
    const grant = state.grant;
    if (grant === undefined) return refuse('not-found', `grant ${grantId} not found`, { grantId });
    if (grant.revokedAt !== null) refuse('illegal-transition', `grant ${grantId} is already revoked`, { grantId });
    return [{ type: 'grant.revoked.v1', data: { grantId, principalId: grant.principalId } }];
  }
  if (state.grant !== undefined) refuse('already-exists', `grant ${grantId} already exists`, { grantId });
  const { principal } = state;
  if (principal === undefined)
    return refuse('not-found', `principal ${command.principalId} not found`, { principalId: command.principalId });
  if (principal.revokedAt !== null) refuse('illegal-transition', `principal ${principal.principalId} is revoked`);
  if (!GRANTEE_ROLES.includes(principal.role)) {
    refuse('invalid', `a ${principal.role} cannot hold grants (only ${GRANTEE_ROLES.join(', ')} principals use keys)`);
  }
  if (state.heldByPrincipal >= GRANT_LIMITS.perPrincipal) {
    refuse('quota-exceeded', `principal ${principal.principalId} already holds ${GRANT_LIMITS.perPrincipal} grants`);
  }
  const operations = checkOperations(command.operations);
  const keys = checkSelector(command.keys, principal.role);
  const conditions = checkConditions(command.conditions, state.now);
  return [{ type: 'grant.created.v1', data: { grantId, principalId: principal.principalId, operations, keys, conditions } }];
}

function checkOperations(operations: readonly string[]): GrantSpec['operations'] {
  if (operations.length === 0) refuse('invalid', 'a grant names at least one operation');
  const unknown = operations.filter((op) => !(GRANT_OPERATIONS as readonly string[]).includes(op));
  if (unknown.length > 0) refuse('invalid', `unknown operation(s): ${unknown.join(', ')}`);
  // Stored in the table's order, once each: two grants that allow the same thing look the same.
  return GRANT_OPERATIONS.filter((op) => operations.includes(op));
}

function checkSelector(keys: KeySelector, role: Role): KeySelector {
  const given = Object.keys(keys);
  if (given.length !== 1) refuse('invalid', 'a key selector names exactly one of ids, aliasPrefix, labels or owned');
  if ('owned' in keys) {
    if (!isOwnershipBound(role))
      refuse('invalid', `a ${role} owns no keys: owned selects keys for appliance identities (kmip-client) only`);
    return { owned: true };
  }
  if ('ids' in keys) {
    if (keys.ids.length === 0 || keys.ids.length > GRANT_LIMITS.ids) refuse('invalid', `ids lists 1 to ${GRANT_LIMITS.ids} key ids`);
    if (keys.ids.some((id) => !ID_PATTERN.test(id))) refuse('invalid', 'ids lists a string that is not a key id');
    return { ids: [...new Set(keys.ids)].sort() };
  }
  if ('aliasPrefix' in keys) {
    if (!ALIAS_PATTERN.test(keys.aliasPrefix))
      refuse('invalid', 'aliasPrefix must be the start of an alias (1-128 of A-Z a-z 0-9 / _ . -)');
    return { aliasPrefix: keys.aliasPrefix };
  }
  const entries = Object.entries(keys.labels);
  if (entries.length === 0 || entries.length > GRANT_LIMITS.labels) refuse('invalid', `labels names 1 to ${GRANT_LIMITS.labels} labels`);
  for (const [name, value] of entries) {
    if (!LABEL_KEY_PATTERN.test(name) || value.length > MAX_LABEL_VALUE) refuse('invalid', `label ${name} is not a valid label selector`);
  }
  return { labels: Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function checkConditions(conditions: GrantConditions, now: Date): GrantConditions {
  const out: { -readonly [K in keyof GrantConditions]: GrantConditions[K] } = {};
  if (conditions.encryptionContext !== undefined) {
    const entries = Object.entries(conditions.encryptionContext);
    if (entries.length === 0 || entries.length > GRANT_LIMITS.contextEntries) {
      refuse('invalid', `encryptionContext names 1 to ${GRANT_LIMITS.contextEntries} entries`);
    }
    if (entries.some(([k, v]) => k.length === 0 || k.length > 128 || typeof v !== 'string' || v.length > GRANT_LIMITS.contextValue)) {
      refuse(
        'invalid',
        `encryptionContext entries are non-empty names of up to 128 characters with string values of up to ${GRANT_LIMITS.contextValue}`,
      );
    }
    out.encryptionContext = Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  if (conditions.aad !== undefined) {
    if (!BASE64.test(conditions.aad) || conditions.aad.length === 0 || (conditions.aad.length / 4) * 3 > GRANT_LIMITS.aadBytes + 2) {
      refuse('invalid', `aad is the exact AAD, base64, 1 to ${GRANT_LIMITS.aadBytes} bytes`);
    }
    out.aad = conditions.aad;
  }
  const notBefore = instant(conditions.notBefore, 'notBefore');
  const notAfter = instant(conditions.notAfter, 'notAfter');
  if (notBefore !== undefined && notAfter !== undefined && notBefore >= notAfter) refuse('invalid', 'notBefore must be before notAfter');
  if (notAfter !== undefined && notAfter <= now.getTime()) refuse('invalid', 'notAfter is already past: the grant would never be in force');
  if (notBefore !== undefined) out.notBefore = new Date(notBefore).toISOString();
  if (notAfter !== undefined) out.notAfter = new Date(notAfter).toISOString();
  if (conditions.certificateBound === true) out.certificateBound = true;
  return out;
}

function instant(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) refuse('invalid', `${name} is not an ISO-8601 instant`);
  return ms;
}

/** Folds one grant event (in place on the map). */
export function evolveGrant(grants: Map<string, GrantState>, event: GrantEvent): void {
  switch (event.type) {
    case 'grant.created.v1': {
      const { grantId, principalId, operations, keys, conditions } = event.data;
      grants.set(grantId, {
        grantId,
        principalId,
        operations,
        keys,
        conditions,
        createdAt: event.at,
        createdBy: event.actor,
        revokedAt: null,
        revokedBy: null,
      });
      return;
    }
    case 'grant.revoked.v1': {
      const grant = grants.get(event.data.grantId);
      if (grant) grants.set(grant.grantId, { ...grant, revokedAt: event.at, revokedBy: event.actor });
      return;
    }
  }
}

/**
 * The id of an appliance identity's standing ownership grant: derived from its principal id, so
 * that every replay of the log gives it the same id (grtown_ + the principal id's suffix).
 */
export const ownershipGrantId = (principalId: string): string => `grtown_${principalId.slice(principalId.indexOf('_') + 1)}`;

/**
 * The standing ownership grant a principal.created.v1 of an ownership-bound role (kmip-client)
 * implies: every operation on every key the principal owns (key.created.v1's owner,
 * key.owner-assigned.v1), as of that event. It is folded from the principal's creation, so logs
 * written before it existed hold it too; revoking it is an ordinary grant.revoked.v1, after which
 * the appliance uses its keys only under the (narrower) grants an administrator gives it.
 */
export function ownershipGrantOf(created: {
  readonly data: { readonly principalId: string; readonly role: Role };
  readonly at: string;
  readonly actor: Actor;
  readonly correlationId: string;
}): GrantEvent | undefined {
  const { principalId, role } = created.data;
  if (!isOwnershipBound(role)) return undefined;
  return {
    type: 'grant.created.v1',
    data: { grantId: ownershipGrantId(principalId), principalId, operations: GRANT_OPERATIONS, keys: { owned: true }, conditions: {} },
    at: created.at,
    actor: created.actor,
    correlationId: created.correlationId,
  };
}
