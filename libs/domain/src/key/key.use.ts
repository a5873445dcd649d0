import type { Actor } from '../shared/actor';
import { refuse } from '../shared/domain-error';
import { isOwnershipBound } from './key.ownership';
import type { TenantState } from '../tenant/tenant';
import type { KeyState, KeyVersionState } from './key.state';
import { ASYMMETRIC_KEY_TYPES, admitsSignature, isAsymmetricKeyType, type SignatureAlgorithm } from './key.asymmetric';
import { isDestroyed, KEY_TYPES, LEGACY_KEY_TYPES, type KeyType, type KeyUsage } from './key.types';

/**
 * Crypto operations, by what they do with a key version: `protect` makes new ciphertext or MACs
 * (latest version of an Active key only); `unprotect` reads existing ones (any live version from
 * minDecryptionVersion on, of an Active or Deactivated key).
 */
export const CRYPTO_OPERATIONS = {
  encrypt: { usage: 'encrypt', direction: 'protect' },
  'generate-data-key': { usage: 'encrypt', direction: 'protect' },
  decrypt: { usage: 'encrypt', direction: 'unprotect' },
  rewrap: { usage: 'encrypt', direction: 'unprotect' },
  mac: { usage: 'mac', direction: 'protect' },
  'verify-mac': { usage: 'mac', direction: 'unprotect' },
  sign: { usage: 'sign', direction: 'protect' },
  verify: { usage: 'sign', direction: 'unprotect' },
} as const satisfies Record<string, { usage: KeyUsage; direction: 'protect' | 'unprotect' }>;
export type CryptoOperation = keyof typeof CRYPTO_OPERATIONS;

/**
 * The crypto operations a key type admits: those of its usage for symmetric types, the row's own
 * list for asymmetric ones (RSA keys sign and verify, and encrypt and decrypt with OAEP; they make
 * no data keys and rewrap nothing).
 */
export function allowedOperations(keyType: KeyType): readonly CryptoOperation[] {
  if (isAsymmetricKeyType(keyType)) return ASYMMETRIC_KEY_TYPES[keyType].asymmetric.operations;
  const usage: KeyUsage = KEY_TYPES[keyType].usage;
  return (Object.keys(CRYPTO_OPERATIONS) as CryptoOperation[]).filter((op) => CRYPTO_OPERATIONS[op].usage === usage);
}

/** The operations that need a private key: a public key registered alone (KeyState.publicOnly) refuses them. */
const PRIVATE_KEY_OPERATIONS: ReadonlySet<CryptoOperation> = new Set<CryptoOperation>(['sign', 'decrypt']);

/**
 * The crypto operations one key admits: its type's, plus those of the extra usages its KMIP client
 * asked for (KEY_REUSE), which authorizeUse lets run only under the tenant's allowKeyReuse.
 */
export function keyOperations(key: Pick<KeyState, 'keyType' | 'extraUsages' | 'publicOnly'>): readonly CryptoOperation[] {
  const own = allowedOperations(key.keyType).filter((op) => key.publicOnly !== true || !PRIVATE_KEY_OPERATIONS.has(op));
  const extra = (key.extraUsages ?? []).flatMap((usage) =>
    (Object.keys(CRYPTO_OPERATIONS) as CryptoOperation[]).filter((op) => CRYPTO_OPERATIONS[op].usage === usage),
  );
  return [...own, ...extra.filter((op) => !own.includes(op))];
}

/** Refuses (`wrong-usage`) a signature algorithm the key's type does not admit. */
export function requireSignatureAlgorithm(key: KeyState, algorithm: SignatureAlgorithm): void {
  if (!isAsymmetricKeyType(key.keyType) || !admitsSignature(key.keyType, algorithm)) {
    const admitted = isAsymmetricKeyType(key.keyType) ? ASYMMETRIC_KEY_TYPES[key.keyType].asymmetric.signatures : [];
    refuse(
      'wrong-usage',
      `a ${key.keyType} key cannot sign with ${algorithm}${admitted.length > 0 ? ` (it signs with ${admitted.join(', ')})` : ''}`,
      {
        keyId: key.keyId,
        keyType: key.keyType,
        algorithm,
      },
    );
  }
}

/** The tenant must be Active: a suspended tenant's keys wait, an offboarded tenant's refuse for good. */
export function requireTenantActive(tenant: TenantState | undefined, tenantId: string): TenantState {
  if (tenant === undefined) return refuse('not-found', `tenant ${tenantId} not found`);
  if (tenant.status !== 'Active') {
    refuse('tenant-inactive', `tenant is ${tenant.status.toLowerCase()}; its keys refuse every crypto operation`, {
      tenantId,
      status: tenant.status,
    });
  }
  return tenant;
}

/** The door a crypto operation comes through: REST's data plane, or KMIP. */
export type CryptoDoor = 'rest' | 'kmip';

/**
 * Decides whether `operation` may use `key` (at `version` for unprotect; the latest for protect)
 * and returns the version to use. Pure: the caller supplies the tenant, the key and the time.
 * A key created over KMIP (`kmipOnly`) is used through KMIP only; a legacy key type only when the
 * tenant policy allows legacy encryption; a key's extra usage (KEY_REUSE) only when it allows key reuse.
 */
export function authorizeUse(
  tenant: TenantState | undefined,
  tenantId: string,
  key: KeyState | undefined,
  keyRef: string,
  operation: CryptoOperation,
  now: Date,
  version?: number,
  door: CryptoDoor = 'rest',
): KeyVersionState {
  const policy = requireTenantActive(tenant, tenantId).policy;
  if (key === undefined) return refuse('not-found', `key ${keyRef} not found`, { keyId: keyRef });
  const { direction } = CRYPTO_OPERATIONS[operation];
  const reused = !allowedOperations(key.keyType).includes(operation) && keyOperations(key).includes(operation);
  if (!reused && !allowedOperations(key.keyType).includes(operation)) {
    refuse('wrong-usage', `key ${key.keyId} is a ${key.keyType} key and cannot be used to ${operation}`, {
      keyId: key.keyId,
      keyType: key.keyType,
      operation,
    });
  }
  if (key.publicOnly === true && PRIVATE_KEY_OPERATIONS.has(operation)) {
    refuse('wrong-usage', `key ${key.keyId} holds a public key only (registered without its private key): it cannot ${operation}`, {
      keyId: key.keyId,
      keyType: key.keyType,
      operation,
    });
  }
  if (key.kmipOnly === true && door !== 'kmip') {
    refuse('wrong-usage', `key ${key.keyId} was created over KMIP and is used over KMIP only`, { keyId: key.keyId, operation });
  }
  if (LEGACY_KEY_TYPES.has(key.keyType) && !(policy.allowLegacyEncryption ?? false)) {
    refuse(
      'legacy-refused',
      `key ${key.keyId} is a legacy ${key.keyType} key; the tenant policy does not allow legacy encryption (allowLegacyEncryption)`,
      {
        keyId: key.keyId,
        keyType: key.keyType,
        operation,
      },
    );
  }
  if (reused && !(policy.allowKeyReuse ?? false)) {
    refuse(
      'key-reuse-refused',
      `key ${key.keyId} is a ${key.keyType} key; its client asked to ${operation} with it too, which the tenant policy does not allow (allowKeyReuse)`,
      { keyId: key.keyId, keyType: key.keyType, operation },
    );
  }
  const details = { keyId: key.keyId, state: key.state, operation };
  if (isDestroyed(key.state)) refuse('key-destroyed', `key ${key.keyId} is destroyed; its material no longer exists`, details);
  refuseSuspended(key, details);
  if (direction === 'protect') {
    if (key.state !== 'Active') refuse('key-unusable', `key ${key.keyId} is ${key.state}; only an Active key can ${operation}`, details);
    if (key.deactivationDate !== null && Date.parse(key.deactivationDate) <= now.getTime()) {
      refuse('key-unusable', `key ${key.keyId} has passed its deactivation date`, { ...details, deactivationDate: key.deactivationDate });
    }
    return latest(key);
  }
  if (key.state === 'PreActive') refuse('key-unusable', `key ${key.keyId} is PreActive and has never protected data`, details);
  if (key.state === 'Compromised' && !policy.allowCompromisedDecrypt) {
    refuse('key-unusable', `key ${key.keyId} is Compromised; the tenant policy does not allow using it to ${operation}`, details);
  }
  const wanted = version ?? key.latestVersion;
  const found = key.versions.find((v) => v.version === wanted);
  if (found === undefined) return refuse('not-found', `key ${key.keyId} has no version ${wanted}`, { keyId: key.keyId, version: wanted });
  if (found.destroyed) refuse('key-destroyed', `version ${wanted} of key ${key.keyId} is destroyed`, { ...details, version: wanted });
  if (wanted < key.minDecryptionVersion) {
    refuse('version-retired', `version ${wanted} of key ${key.keyId} is below its minimum decryption version ${key.minDecryptionVersion}`, {
      ...details,
      version: wanted,
      minDecryptionVersion: key.minDecryptionVersion,
    });
  }
  return found;
}

/** A pending destruction asked for over KMIP stops every use at once. */
function refuseSuspended(key: KeyState, details: Record<string, unknown>): void {
  if (key.useSuspended && key.destroyAfter !== null) {
    refuse('key-destroyed', `key ${key.keyId} is pending destruction (until ${key.destroyAfter}); it can no longer be used`, details);
  }
}

function latest(key: KeyState): KeyVersionState {
  const version = key.versions.find((v) => v.version === key.latestVersion);
  if (version === undefined || version.destroyed) return refuse('key-destroyed', `the latest version of key ${key.keyId} is destroyed`);
  return version;
}

/**
 * An appliance (ownership-bound principal) that created or registered an exportable key itself may
 * retrieve it without an administrator enabling export: the material came from its own request.
 * Keys assigned to it by an administrator still need export enabled.
 */
function exportsOwnKey(actor: Actor, key: KeyState): boolean {
  return isOwnershipBound(actor.role) && key.owner === actor.principalId && key.createdBy.principalId === actor.principalId;
}

/**
 * Whether a key's material may leave Keyward (wrapped for the caller): created exportable, export
 * enabled under dual control (or the appliance's own key), and Active or Deactivated (an appliance's
 * own key also PreActive or Compromised). Returns the latest version.
 */
export function authorizeExport(
  tenant: TenantState | undefined,
  tenantId: string,
  key: KeyState | undefined,
  keyRef: string,
  actor?: Actor,
): KeyVersionState {
  requireTenantActive(tenant, tenantId);
  if (key === undefined) return refuse('not-found', `key ${keyRef} not found`, { keyId: keyRef });
  const details = { keyId: key.keyId, state: key.state, operation: 'export' };
  if (isDestroyed(key.state)) refuse('key-destroyed', `key ${key.keyId} is destroyed; its material no longer exists`, details);
  refuseSuspended(key, details);
  if (!key.exportable) refuse('key-unusable', `key ${key.keyId} is not exportable`, details);
  const ownKey = actor !== undefined && exportsOwnKey(actor, key);
  if (!key.exportEnabled && !ownKey)
    refuse('key-unusable', `export of key ${key.keyId} has not been enabled (POST /v1/keys/{id}/enable-export)`, details);
  // An appliance may fetch its own key before activating it (a drive or a disk is keyed, then the key goes live) and
  // after a compromise (to read back what the key protected), as KMIP lets every state but Destroyed be retrieved.
  const exportable =
    key.state === 'Active' || key.state === 'Deactivated' || (ownKey && (key.state === 'PreActive' || key.state === 'Compromised'));
  if (!exportable) refuse('key-unusable', `key ${key.keyId} is ${key.state}`, details);
  return latest(key);
}

/**
 * Whether the public key of a version of an asymmetric key may be read (by key-users and auditors):
 * any state while the version's material exists (its private key is what the public key is
 * derived from). Returns the version (the latest when none is asked for).
 */
export function authorizePublicKey(
  tenant: TenantState | undefined,
  tenantId: string,
  key: KeyState | undefined,
  keyRef: string,
  version?: number,
): KeyVersionState {
  requireTenantActive(tenant, tenantId);
  if (key === undefined) return refuse('not-found', `key ${keyRef} not found`, { keyId: keyRef });
  if (!isAsymmetricKeyType(key.keyType)) {
    refuse('wrong-usage', `key ${key.keyId} is a ${key.keyType} key: it has no public key`, { keyId: key.keyId, keyType: key.keyType });
  }
  if (isDestroyed(key.state)) refuse('key-destroyed', `key ${key.keyId} is destroyed; its key pair no longer exists`, { keyId: key.keyId });
  const wanted = version ?? key.latestVersion;
  const found = key.versions.find((v) => v.version === wanted);
  if (found === undefined) return refuse('not-found', `key ${key.keyId} has no version ${wanted}`, { keyId: key.keyId, version: wanted });
  if (found.destroyed) refuse('key-destroyed', `version ${wanted} of key ${key.keyId} is destroyed`, { keyId: key.keyId, version: wanted });
  return found;
}

/**
 * Whether a certificate (a CERTIFICATE key) may be read, by key-users and auditors: public data, so
 * any state while the version's material exists, no export rule. Returns the latest version.
 */
export function authorizeCertificate(
  tenant: TenantState | undefined,
  tenantId: string,
  key: KeyState | undefined,
  keyRef: string,
): KeyVersionState {
  requireTenantActive(tenant, tenantId);
  if (key === undefined) return refuse('not-found', `key ${keyRef} not found`, { keyId: keyRef });
  if (key.keyType !== 'CERTIFICATE')
    refuse('wrong-usage', `key ${key.keyId} is a ${key.keyType} key, not a certificate`, { keyId: key.keyId });
  if (isDestroyed(key.state)) refuse('key-destroyed', `certificate ${key.keyId} is destroyed`, { keyId: key.keyId });
  return latest(key);
}

/**
 * The key versions a tenant's JWKS publishes: every live version (from minDecryptionVersion on) of
 * its Active asymmetric keys but legacy ones (RSA-1024) and public keys registered alone (not the
 * tenant's to sign with), so that signatures of older versions still verify after a rotation.
 */
export function publishedSigningKeys(keys: Iterable<KeyState>): { key: KeyState; version: KeyVersionState }[] {
  const out: { key: KeyState; version: KeyVersionState }[] = [];
  for (const key of keys) {
    if (key.state !== 'Active' || !isAsymmetricKeyType(key.keyType) || LEGACY_KEY_TYPES.has(key.keyType) || key.publicOnly === true)
      continue;
    for (const version of key.versions) if (!version.destroyed && version.version >= key.minDecryptionVersion) out.push({ key, version });
  }
  return out;
}
