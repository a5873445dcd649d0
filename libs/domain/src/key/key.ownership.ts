import type { Actor, Role } from '../shared/actor';
import { refuse } from '../shared/domain-error';
import type { KeyCommand } from './key.commands';
import type { KeyState } from './key.state';

/**
 * Key ownership, the one rule: a principal of an ownership-bound role (today `kmip-client`, an
 * appliance identity) acts only on the keys it owns, that is the keys it created or registered
 * (key.created.v1 names it as `owner`) or that an administrator assigned to it
 * (key.owner-assigned.v1). Other roles are not bound by ownership (their role decides).
 * Per-key grants can later express this rule as "the owner holds every grant on its key".
 */
export const OWNERSHIP_BOUND_ROLES: readonly Role[] = ['kmip-client'];

export const isOwnershipBound = (role: Role): boolean => OWNERSHIP_BOUND_ROLES.includes(role);

/** The key commands an ownership-bound principal may send (on keys it owns). */
const OWNER_COMMANDS: ReadonlySet<KeyCommand['kind']> = new Set<KeyCommand['kind']>([
  'key.create',
  'key.activate',
  'key.deactivate',
  'key.compromise',
  'key.request-destruction',
  'key.set-alias',
  'key.change-labels',
  'key.change-attributes',
]);

/** Whether `actor` may act on `key` at all (use it, read it, change it). */
export function mayActOnKey(actor: Actor, key: KeyState): boolean {
  return !isOwnershipBound(actor.role) || key.owner === actor.principalId;
}

/** Refuses (`forbidden`) an actor that may not act on the key. */
export function requireKeyAccess(actor: Actor, key: KeyState): void {
  if (!mayActOnKey(actor, key)) {
    refuse('forbidden', `key ${key.keyId} is not owned by ${actor.principalId}`, { keyId: key.keyId, principalId: actor.principalId });
  }
}

/** Refuses a key command an ownership-bound actor may not send, or sends on a key it does not own. */
export function requireOwnerCommand(actor: Actor, command: KeyCommand, key: KeyState | undefined): void {
  if (!isOwnershipBound(actor.role)) return;
  if (!OWNER_COMMANDS.has(command.kind)) refuse('forbidden', `a ${actor.role} cannot ${command.kind}`, { command: command.kind });
  if (key !== undefined && command.kind !== 'key.create') requireKeyAccess(actor, key);
}

/** The owner a new key records: its creator when the creator is ownership-bound. */
export const ownerAtCreation = (actor: Actor): string | undefined => (isOwnershipBound(actor.role) ? actor.principalId : undefined);
