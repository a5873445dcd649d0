import type { AuthenticatedPrincipal } from '@keyward/auth';
import {
  requireAccess,
  requireRead,
  requireTenantActive,
  type AccessContext,
  type Actor,
  type DecisionContext,
  type GrantOperation,
  type KeyState,
  type Role,
  type TenantLog,
} from '@keyward/domain';
import { asInt, asText, child, ResultReason, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { businessNow } from '@keyward/platform';
import type { EncryptionBudgetService, KeyMaterialService, UsageLimitsService, UsageRecorder } from '@keyward/keys';
import { KmipError } from './kmip-error';
import type { CertificateIdentity } from './kmip-principal';
import { decideFresh, type TenantLogs } from './kmip-tenant-reads';
import { keyOfObject, uidOf, type KeyPart } from './kmip-key-pair';

/** The items of a response payload. */
export type Payload = TtlvItem[];

export interface Version {
  readonly major: number;
  readonly minor: number;
}

/** One batch item being answered: who asks, in which protocol version. */
export interface Call {
  readonly principal: AuthenticatedPrincipal;
  /** The verified client certificate the principal authenticated with (bound to it by fingerprint). */
  readonly certificate: CertificateIdentity;
  readonly version: Version;
  readonly requestId: string;
  /** ID Placeholder: the object the previous batch item made or used. */
  placeholder: string | undefined;
  /** Buffers holding key material in the response: zeroed once the response is encoded and written. */
  readonly scrub: Buffer[];
}

/** What the operations work with: the same executor, keystore and usage audit as key-api. */
export interface KmipDeps {
  /** The executor, seen through the reads of one request message (see kmip-tenant-reads). */
  readonly executor: TenantLogs;
  readonly materials: KeyMaterialService;
  readonly usage: UsageRecorder;
  /** AES-GCM encryptions per key version, shared with key-api (absent in unit specs). */
  readonly gcmBudget?: EncryptionBudgetService;
  /** Usage Limits counts, shared with every process (absent in unit specs: a key with Usage Limits is then refused). */
  readonly usageLimits?: UsageLimitsService;
}

export type Operation = (deps: KmipDeps, payload: TtlvItem | undefined, call: Call) => Promise<Payload> | Payload;

export const READERS: readonly Role[] = ['tenant-admin', 'key-user', 'auditor', 'kmip-client'];
/** Who creates, registers, changes, activates, revokes and destroys keys (a kmip-client: the keys it owns, see key.ownership.ts). */
export const MANAGERS: readonly Role[] = ['tenant-admin', 'kmip-client'];
/** Who encrypts, decrypts, MACs and exports (a kmip-client: the keys it owns). */
export const USERS: readonly Role[] = ['key-user', 'kmip-client'];
/** The largest Data accepted by Encrypt, Decrypt, MAC and MAC Verify. */
export const MAX_DATA = 64 * 1024;

export const fail = (reason: number, message: string, slug?: string): never => {
  throw new KmipError(reason, message, slug);
};

export function requireRole(call: Call, roles: readonly Role[], what: string): void {
  if (!roles.includes(call.principal.role)) fail(ResultReason.PermissionDenied, `a ${call.principal.role} cannot ${what}`, 'forbidden');
}

/** KMIP 2.0 or later. */
export const isKmip2 = (call: Call): boolean => call.version.major >= 2;

/** The version in a Protocol Version structure. */
export function versionOf(item: TtlvItem | undefined): Version | undefined {
  const major = asInt(child(item, Tag.ProtocolVersionMajor));
  const minor = asInt(child(item, Tag.ProtocolVersionMinor));
  return major === undefined || minor === undefined ? undefined : { major, minor };
}

export const versionItem = (v: Version): TtlvItem =>
  ttlv.struct(Tag.ProtocolVersion, [ttlv.int(Tag.ProtocolVersionMajor, v.major), ttlv.int(Tag.ProtocolVersionMinor, v.minor)]);

/** The caller as the domain's rules see it. */
export const actorOf = (call: Call): Actor => ({ principalId: call.principal.principalId, role: call.principal.role });

/**
 * Whether the caller may use this key, in the order every KMIP use checks it (as REST): the
 * tenant, then the domain's access rule (an appliance's ownership and the principal's grants: a key
 * it may not even read is Item Not Found, a readable one without the operation Permission Denied).
 * Answers the grant that allowed it.
 */
export function requireKeyUse(
  call: Call,
  log: TenantLog,
  key: KeyState | undefined,
  keyRef: string,
  operation: GrantOperation,
  context: AccessContext,
  now: Date,
): string | null {
  requireTenantActive(log.tenant, call.principal.tenantId);
  return requireAccess(log, call.principal, key, keyRef, operation, context, now);
}

/** The decision context of a command run on behalf of the caller. */
export function decisionContext(call: Call): DecisionContext {
  return {
    now: businessNow(),
    actor: actorOf(call),
    correlationId: call.requestId,
  };
}

/** The object a payload names (Unique Identifier, else the ID placeholder). */
export const keyRefOf = (payload: TtlvItem | undefined, call: Call): string =>
  asText(child(payload, Tag.UniqueIdentifier)) ?? call.placeholder ?? '';

/**
 * The key a payload names, from the tenant's log (an unknown one is looked for again in the store
 * before it is refused) and which of its objects (a key pair's public key: kmip-key-pair.ts), if the
 * caller may see it, by the domain's read rule (an appliance's key it does not own, or a key no
 * grant of a key-user of a grants-required tenant covers, is Item Not Found, as if it did not
 * exist; a key covered by a grant that does not allow read, Permission Denied).
 */
export async function findKey(
  deps: KmipDeps,
  payload: TtlvItem | undefined,
  call: Call,
): Promise<{ key: KeyState; log: TenantLog; part: KeyPart }> {
  const id = asText(child(payload, Tag.UniqueIdentifier)) ?? call.placeholder;
  if (id === undefined) return fail(ResultReason.MissingData, 'Unique Identifier is required');
  const found = await decideFresh(deps.executor, call.principal.tenantId, (log) => {
    const { key, part } = keyOfObject(log.keys, id);
    if (key === undefined) return fail(ResultReason.ItemNotFound, `key ${id} not found`, 'not-found');
    requireRead(log, actorOf(call), key, id, businessNow());
    return { key, log, part };
  });
  call.placeholder = uidOf(found.key, found.part);
  return found;
}

export type UsageOperation = 'export' | 'mac' | 'verify-mac' | 'encrypt' | 'decrypt' | 'sign' | 'verify';

/** One usage record for a KMIP crypto operation, as REST leaves them (never any data). */
export function recordUsage(
  deps: KmipDeps,
  call: Call,
  operation: UsageOperation,
  keyId: string | null,
  version: number | null,
  outcome: string,
  /** The grant that allowed the operation (grants-required tenants). */
  grantId: string | null = null,
): void {
  const { tenantId, principalId, role } = call.principal;
  const granted = grantId === null ? {} : { grantId };
  deps.usage.record({ tenantId, principalId, role, operation, keyId, version, ...granted, outcome, requestId: call.requestId });
}
