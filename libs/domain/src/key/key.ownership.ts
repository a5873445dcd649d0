import type { Actor, Role } from '../shared/actor';
import { refuse } from '../shared/domain-error';
import type { KeyCommand } from './key.commands';
import type { KeyState } from './key.state';

/**
 * Key ownership, the one rule: a principal of an ownership-bound role (today `kmip-client`, an
 * appliance identity) acts only on the keys it owns, that is the keys it created or registered
 * (key.created.v1 names it as `owner`) or that an administrator assigned to it
 * (key.owner-assigned.v1). Other roles are not bound by ownership (their role decides).
 * The owner's use of its keys is a standing, revocable grant (`ownershipGrantOf`, grant/grant.ts).
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

/**
 * Whether `actor` may act on `key` at all (use it, read it, change it). A key it may not act on
 * does not exist for it: `authorize` (grant/authorize.ts) answers it 404, and key commands on it
 * `not-found` (`requireKnownKey`), as for any key the principal may not even read.
 */
export function mayActOnKey(actor: Actor, key: KeyState): boolean {
  return !isOwnershipBound(actor.role) || key.owner === actor.principalId;
}

/**
 * Refuses (`forbidden`) a key command an ownership-bound actor may never send, whatever the key
 * (so the refusal tells nothing about which keys exist). Which keys it may send the others on is
 * decided with its grants: `requireKnownKey` in grant/authorize.ts.
 */
export function requireOwnerCommand(actor: Actor, command: KeyCommand): void {
  if (isOwnershipBound(actor.role) && !OWNER_COMMANDS.has(command.kind)) {
    refuse('forbidden', `a ${actor.role} cannot ${command.kind}`, { command: command.kind });
  }
}

/** The owner a new key records: its creator when the creator is ownership-bound. */
export const ownerAtCreation = (actor: Actor): string | undefined => (isOwnershipBound(actor.role) ? actor.principalId : undefined);
