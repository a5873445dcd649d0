import type { Actor, Role } from '../shared/actor';

/**
 * What a grant may allow on a key. `data-key` covers both data-key routes; `export` is material
 * retrieval (REST) and KMIP Get; `read` is the key's metadata. `sign` and `verify` are reserved for
 * asymmetric keys (grantable now, so that grants need no new shape when those operations come).
 */
export const GRANT_OPERATIONS = [
  'encrypt',
  'decrypt',
  'data-key',
  'rewrap',
  'mac',
  'verify-mac',
  'sign',
  'verify',
  'export',
  'read',
] as const;
export type GrantOperation = (typeof GRANT_OPERATIONS)[number];

/** Operations whose request carries AAD (an encryption context): the only ones an AAD condition can be met by. */
export const AAD_OPERATIONS: readonly GrantOperation[] = ['encrypt', 'decrypt', 'data-key', 'rewrap'];

/**
 * Roles that can hold grants: the principals that use keys. A kmip-client (an appliance identity)
 * is also bound by ownership: its grants reach only the keys it owns (key.ownership.ts).
 */
export const GRANTEE_ROLES: readonly Role[] = ['key-user', 'kmip-client'];

/** Whether a tenant's key-users need grants (`required`) or may use every key of the tenant (`open`, the behaviour before grants). */
export const GRANT_MODES = ['required', 'open'] as const;
export type GrantMode = (typeof GRANT_MODES)[number];

/**
 * Which keys a grant covers: exactly one of listed ids, an alias prefix, labels that must all
 * match, or (appliance identities only) every key the grantee owns, as ownership is at the time of use.
 */
export type KeySelector =
  | { readonly ids: readonly string[] }
  | { readonly aliasPrefix: string }
  | { readonly labels: Readonly<Record<string, string>> }
  | { readonly owned: true };

/** Conditions every use under the grant must meet (all of the ones present). */
export interface GrantConditions {
  /**
   * The request's AAD must be a UTF-8 JSON object (an encryption context) holding each of these
   * entries with exactly this value (other entries may be present): AWS's EncryptionContextSubset.
   */
  readonly encryptionContext?: Readonly<Record<string, string>>;
  /** The request's AAD must be exactly these bytes (base64): AWS's EncryptionContextEquals. */
  readonly aad?: string;
  /** ISO-8601 instants: the grant is in force from notBefore (inclusive) until notAfter (exclusive). */
  readonly notBefore?: string;
  readonly notAfter?: string;
  /** The principal must be bound to a client certificate (so that every use came over mutual TLS with it). */
  readonly certificateBound?: true;
}

export interface GrantSpec {
  readonly principalId: string;
  readonly operations: readonly GrantOperation[];
  readonly keys: KeySelector;
  readonly conditions: GrantConditions;
}

export interface GrantState extends GrantSpec {
  readonly grantId: string;
  readonly createdAt: string;
  readonly createdBy: Actor;
  readonly revokedAt: string | null;
  readonly revokedBy: Actor | null;
}

/** Bounds of a grant's shape (each grant is folded into every key-api instance's memory). */
export const GRANT_LIMITS = {
  ids: 100,
  labels: 32,
  contextEntries: 16,
  contextValue: 256,
  aadBytes: 8192,
  /** Grants in force a principal may hold at once. */
  perPrincipal: 1000,
} as const;
