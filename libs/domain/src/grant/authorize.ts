import type { KeyState } from '../key/key.state';
import type { TenantLog } from '../keyset/keyset';
import type { Actor, Role } from '../shared/actor';
import { refuse } from '../shared/domain-error';
import { AAD_OPERATIONS, GRANTEE_ROLES, type GrantMode, type GrantOperation, type GrantState, type KeySelector } from './grant.types';
import { isOwnershipBound, mayActOnKey } from '../key/key.ownership';

/** What the request brings that conditions look at. */
export interface AccessContext {
  /** The request's AAD (absent when it has none, or the operation takes none). */
  readonly aad?: Uint8Array;
}

/** Why a grant-required tenant refuses a use. `no-grant` is a 404: the principal may not even know the key exists. */
export type AccessRefusal =
  | 'no-grant'
  | 'operation-not-granted'
  | 'not-yet-valid'
  | 'expired'
  | 'certificate-required'
  | 'aad-mismatch'
  | 'encryption-context-mismatch';

export type AccessDecision =
  /** `grantId` is the grant that allowed it; null in an `open` tenant (no grant needed). */
  | { readonly allowed: true; readonly grantId: string | null }
  | { readonly allowed: false; readonly status: 403 | 404; readonly reason: AccessRefusal; readonly message: string };

/** A tenant's grant mode: logs written before grants existed (no mode recorded) are `open`. */
export const grantModeOf = (log: TenantLog): GrantMode => log.tenant?.policy.grants ?? 'open';

/** Whether a selector covers a key for the grant's principal (as the key is now: alias, labels and owner can change). */
export function selects(selector: KeySelector, key: KeyState, grantee: string): boolean {
  if ('ids' in selector) return selector.ids.includes(key.keyId);
  if ('owned' in selector) return key.owner === grantee;
  if ('aliasPrefix' in selector) return key.alias !== null && key.alias.startsWith(selector.aliasPrefix);
  for (const name in selector.labels) if (key.labels[name] !== selector.labels[name]) return false;
  return true;
}

/**
 * Whether `principal` may do `operation` with `key` at `now`, and under which grant. Pure: the
 * tenant log (its policy, grants and certificate bindings), the key and the request's AAD decide.
 * An `open` tenant allows every use of a key-user (grantId null; roles and key state are checked
 * elsewhere). A `required` tenant, and an appliance identity (kmip-client) in any tenant, allows a
 * use only under a grant in force that covers the key, names the operation and whose conditions
 * the request meets; the key is unknown (404) to a principal no unrevoked grant covers it with
 * (and to an appliance that does not own it), and refused (403, with the reason) otherwise.
 */
export function authorize(
  log: TenantLog,
  principal: Actor,
  key: KeyState | undefined,
  operation: GrantOperation,
  context: AccessContext,
  now: Date,
): AccessDecision {
  // An appliance identity (kmip-client) is decided by its grants in every tenant: its standing
  // ownership grant (ownershipGrantOf), or narrower ones an administrator gave it instead, and
  // only on the keys it owns (key.ownership.ts).
  const bound = isOwnershipBound(principal.role);
  if (!bound && grantModeOf(log) === 'open') return { allowed: true, grantId: null };
  if (key === undefined) return { allowed: false, status: 404, reason: 'no-grant', message: 'key not found' };
  if (bound && !mayActOnKey(principal, key)) {
    return { allowed: false, status: 404, reason: 'no-grant', message: `key ${key.keyId} not found` };
  }
  let refusal: AccessRefusal | undefined;
  const aad = new LazyAad(context.aad);
  for (const grant of log.grantsFor(principal.principalId, key.keyId)) {
    if (!selects(grant.keys, key, grant.principalId)) continue;
    if (!grant.operations.includes(operation)) {
      refusal ??= 'operation-not-granted';
      continue;
    }
    const unmet = unmetCondition(log, grant, operation, aad, now);
    if (unmet === undefined) return { allowed: true, grantId: grant.grantId };
    refusal = refusal === undefined || refusal === 'operation-not-granted' ? unmet : refusal;
  }
  if (refusal === undefined || !GRANTEE_ROLES.includes(principal.role)) {
    return { allowed: false, status: 404, reason: 'no-grant', message: `key ${key.keyId} not found` };
  }
  return { allowed: false, status: 403, reason: refusal, message: REFUSAL_MESSAGES[refusal](key.keyId, operation) };
}

/**
 * Whether grants decide which keys a role may see: the roles that use keys (key-users, and
 * appliance identities, which are also bound by ownership). Administrators and auditors see every
 * key of their tenant; their role decides what they may do with it.
 */
export const seesByGrant = (role: Role): boolean => GRANTEE_ROLES.includes(role);

/**
 * The one visibility rule: whether `principal` may know of `key` and read its metadata (REST key
 * get and list, KMIP Locate, Get Attributes and Get Attribute List). In a grants-required tenant a
 * key-user needs a grant allowing `read` (no grant covering the key: 404, as if it did not exist;
 * a grant without `read`: 403); a kmip-client, in every tenant, the keys it owns under a grant
 * allowing `read` (its standing ownership grant allows it); key-users of an open tenant, and the
 * other roles, see every key of the tenant (ownership aside, see mayReadKey).
 */
export function authorizeRead(log: TenantLog, principal: Actor, key: KeyState | undefined, now: Date): AccessDecision {
  if (!seesByGrant(principal.role)) return { allowed: true, grantId: null };
  return authorize(log, principal, key, 'read', {}, now);
}

/** authorizeRead, as a DomainError when refused (`not-found` 404 or `forbidden` 403). */
export function requireRead(log: TenantLog, principal: Actor, key: KeyState | undefined, keyRef: string, now: Date): void {
  if (seesByGrant(principal.role)) requireAccess(log, principal, key, keyRef, 'read', {}, now);
}

/** Whether a listing (REST key list, KMIP Locate) shows `key` to `principal` (authorizeRead: ownership included). */
export const mayReadKey = (log: TenantLog, principal: Actor, key: KeyState, now: Date): boolean =>
  authorizeRead(log, principal, key, now).allowed;

/**
 * Refuses (`not-found`) a key command on a key the principal may not even know of: the 404 of
 * authorizeRead (an appliance's key it does not own, a key no grant of it covers), so that a
 * command answers as a read or a use would and never tells another appliance's key from a key that
 * does not exist. A key it may know of passes, with or without `read` (commands are not a grant
 * operation: a kmip-client runs the lifecycle of the keys it owns). It binds the one role that both
 * sees keys by grant and sends key commands, the appliance identity; administrators see every key,
 * and a key-user's key command is refused by role at every door before it gets here.
 */
export function requireKnownKey(log: TenantLog, principal: Actor, key: KeyState | undefined, keyRef: string, now: Date): void {
  if (!isOwnershipBound(principal.role)) return;
  const decision = authorize(log, principal, key, 'read', {}, now);
  if (!decision.allowed && decision.status === 404) refuse('not-found', `key ${keyRef} not found`, { keyId: keyRef });
}

/** authorize, as a DomainError when refused (`forbidden` 403 or `not-found` 404); answers the grant id. */
export function requireAccess(
  log: TenantLog,
  principal: Actor,
  key: KeyState | undefined,
  keyRef: string,
  operation: GrantOperation,
  context: AccessContext,
  now: Date,
): string | null {
  const decision = authorize(log, principal, key, operation, context, now);
  if (decision.allowed) return decision.grantId;
  if (decision.status === 404) return refuse('not-found', `key ${keyRef} not found`, { keyId: keyRef });
  return refuse('forbidden', decision.message, { keyId: key?.keyId ?? keyRef, operation, reason: decision.reason });
}

const REFUSAL_MESSAGES: Readonly<Record<AccessRefusal, (keyId: string, op: GrantOperation) => string>> = {
  'no-grant': (keyId) => `key ${keyId} not found`,
  'operation-not-granted': (keyId, op) => `no grant allows ${op} with key ${keyId}`,
  'not-yet-valid': (keyId, op) => `the grant allowing ${op} with key ${keyId} is not in force yet`,
  expired: (keyId, op) => `the grant allowing ${op} with key ${keyId} has expired`,
  'certificate-required': (keyId, op) => `${op} with key ${keyId} is granted to certificate-bound principals only`,
  'aad-mismatch': (keyId, op) => `${op} with key ${keyId} is granted only with another AAD`,
  'encryption-context-mismatch': (keyId, op) => `${op} with key ${keyId} is granted only with other encryption context entries`,
};

/** The first condition of a grant the request does not meet, if any. */
function unmetCondition(log: TenantLog, grant: GrantState, op: GrantOperation, aad: LazyAad, now: Date): AccessRefusal | undefined {
  const { conditions } = grant;
  const t = now.getTime();
  if (conditions.notBefore !== undefined && t < Date.parse(conditions.notBefore)) return 'not-yet-valid';
  if (conditions.notAfter !== undefined && t >= Date.parse(conditions.notAfter)) return 'expired';
  if (conditions.certificateBound === true && !log.certificates.has(grant.principalId)) return 'certificate-required';
  if (conditions.aad !== undefined && (!AAD_OPERATIONS.includes(op) || !aad.equals(conditions.aad))) return 'aad-mismatch';
  if (conditions.encryptionContext !== undefined) {
    const context = AAD_OPERATIONS.includes(op) ? aad.context() : undefined;
    if (context === undefined) return 'encryption-context-mismatch';
    for (const name in conditions.encryptionContext) {
      if (!Object.hasOwn(context, name) || context[name] !== conditions.encryptionContext[name]) return 'encryption-context-mismatch';
    }
  }
  return undefined;
}

/** The request's AAD, decoded at most once per request and only when a condition looks at it. */
class LazyAad {
  private parsed: Readonly<Record<string, unknown>> | null | undefined;

  constructor(private readonly bytes: Uint8Array | undefined) {}

  equals(base64: string): boolean {
    if (this.bytes === undefined) return false;
    const wanted = Buffer.from(base64, 'base64');
    return wanted.length === this.bytes.length && wanted.equals(this.bytes);
  }

  /** The AAD as an encryption context (a UTF-8 JSON object), or undefined when it is not one. */
  context(): Readonly<Record<string, unknown>> | undefined {
    if (this.parsed === undefined) {
      this.parsed = null;
      if (this.bytes !== undefined) {
        try {
          const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(this.bytes));
          if (typeof value === 'object' && value !== null && !Array.isArray(value)) this.parsed = value as Record<string, unknown>;
        } catch {
          // Not JSON: no encryption context.
        }
      }
    }
    return this.parsed ?? undefined;
  }
}

/** One principal's access to a key at an instant, as the log says (for the audit). */
export interface KeyAccess {
  readonly principalId: string;
  readonly role: Actor['role'];
  /** The grant; null in an open tenant (every active key-user may use every key). */
  readonly grantId: string | null;
  readonly operations: readonly GrantOperation[];
  readonly conditions: GrantState['conditions'];
  /** Whether the grant's validity window includes the instant. */
  readonly inForce: boolean;
}

/** Who could do what with a key at `at`, from the log folded up to that instant. */
export function accessTo(log: TenantLog, key: KeyState, at: Date): { readonly mode: GrantMode; readonly access: readonly KeyAccess[] } {
  const mode = grantModeOf(log);
  const access: KeyAccess[] = [];
  for (const principal of log.principals.values()) {
    if (principal.revokedAt !== null || !GRANTEE_ROLES.includes(principal.role)) continue;
    const { principalId, role } = principal;
    // An appliance identity only ever reaches the keys it owns, and only under its grants (authorize).
    if (isOwnershipBound(role) && key.owner !== principalId) continue;
    if (mode === 'open' && !isOwnershipBound(role)) {
      access.push({ principalId, role, grantId: null, operations: OPEN_OPERATIONS, conditions: {}, inForce: true });
      continue;
    }
    for (const grant of log.grantsOf(principalId)) {
      if (!selects(grant.keys, key, principalId)) continue;
      const { notBefore, notAfter } = grant.conditions;
      const t = at.getTime();
      const inForce = (notBefore === undefined || t >= Date.parse(notBefore)) && (notAfter === undefined || t < Date.parse(notAfter));
      access.push({ principalId, role, grantId: grant.grantId, operations: grant.operations, conditions: grant.conditions, inForce });
    }
  }
  return { mode, access };
}

/** What a key-user of an open tenant may do with any key (what its key type admits). */
const OPEN_OPERATIONS: readonly GrantOperation[] = ['encrypt', 'decrypt', 'data-key', 'rewrap', 'mac', 'verify-mac', 'export'];
