import { refuse } from '../shared/domain-error';
import type { TenantState } from '../tenant/tenant';
import type { KeyState, KeyVersionState } from './key.state';
import { isDestroyed, KEY_TYPES, LEGACY_KEY_TYPES, type KeyUsage } from './key.types';

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
} as const satisfies Record<string, { usage: KeyUsage; direction: 'protect' | 'unprotect' }>;
export type CryptoOperation = keyof typeof CRYPTO_OPERATIONS;

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
 * tenant policy allows legacy encryption.
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
  const { usage, direction } = CRYPTO_OPERATIONS[operation];
  const keyUsage = KEY_TYPES[key.keyType].usage;
  if (keyUsage !== usage) {
    refuse('wrong-usage', `key ${key.keyId} is a ${key.keyType} key and cannot be used to ${operation}`, {
      keyId: key.keyId,
      keyType: key.keyType,
      operation,
    });
  }
  if (key.kmipOnly === true && door !== 'kmip') {
    refuse('wrong-usage', `key ${key.keyId} was created over KMIP and is used over KMIP only`, { keyId: key.keyId, operation });
  }
  if (LEGACY_KEY_TYPES.has(key.keyType) && !(policy.allowLegacyEncryption ?? false)) {
    refuse('legacy-refused', `key ${key.keyId} is a legacy ${key.keyType} key; the tenant policy does not allow legacy encryption`, {
      keyId: key.keyId,
      keyType: key.keyType,
      operation,
    });
  }
  const details = { keyId: key.keyId, state: key.state, operation };
  if (isDestroyed(key.state)) refuse('key-destroyed', `key ${key.keyId} is destroyed; its material no longer exists`, details);
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

function latest(key: KeyState): KeyVersionState {
  const version = key.versions.find((v) => v.version === key.latestVersion);
  if (version === undefined || version.destroyed) return refuse('key-destroyed', `the latest version of key ${key.keyId} is destroyed`);
  return version;
}

/**
 * Whether a key's material may leave Keyward (wrapped for the caller): created exportable, export
 * enabled under dual control, and Active or Deactivated. Returns the latest version.
 */
export function authorizeExport(
  tenant: TenantState | undefined,
  tenantId: string,
  key: KeyState | undefined,
  keyRef: string,
): KeyVersionState {
  requireTenantActive(tenant, tenantId);
  if (key === undefined) return refuse('not-found', `key ${keyRef} not found`, { keyId: keyRef });
  const details = { keyId: key.keyId, state: key.state, operation: 'export' };
  if (isDestroyed(key.state)) refuse('key-destroyed', `key ${key.keyId} is destroyed; its material no longer exists`, details);
  if (!key.exportable) refuse('key-unusable', `key ${key.keyId} is not exportable`, details);
  if (!key.exportEnabled)
    refuse('key-unusable', `export of key ${key.keyId} has not been enabled (POST /v1/keys/{id}/enable-export)`, details);
  if (key.state !== 'Active' && key.state !== 'Deactivated') refuse('key-unusable', `key ${key.keyId} is ${key.state}`, details);
  return latest(key);
}
