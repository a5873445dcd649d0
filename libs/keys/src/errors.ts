import { CodedError, DomainError, type DomainErrorCode } from '@keyward/domain';
import type { MaterialRef } from '@keyward/crypto';

/**
 * Why a key-management use case could not do what it was asked, beyond the domain's own refusals
 * (DomainError). Each door maps the code once: key-api to an RFC 9457 problem (its ProblemFilter),
 * kmip to a Result Reason (toKmipError). The code is also the outcome the usage audit records.
 */
export type KeyUseErrorCode =
  /** No root key in memory (or not the keystore's): nothing can be unwrapped. */
  | 'sealed'
  | 'already-unsealed'
  /** A candidate root key (or share) that is not the one the keystore was built with. */
  | 'root-key-mismatch'
  | 'malformed-ciphertext'
  | 'malformed-mac'
  /** A ciphertext or its AAD failed authentication. */
  | 'authentication-failed'
  | 'mac-key-mismatch'
  | 'weak-wrapping-key'
  /** A digest the signature algorithm cannot sign as such (no prehash form, or the wrong length). */
  | 'unsupported-digest'
  /** More plaintext than the key's public-key encryption carries (RSA-OAEP: modulus bytes - 66). */
  | 'plaintext-too-large'
  /** The material (or the tenant KEK) no longer exists: it was shredded. */
  | 'key-destroyed'
  | 'keystore-integrity'
  /** A key version has made all the AES-GCM encryptions it may make with random IVs. */
  | 'key-version-exhausted'
  /** A key has protected all the bytes or objects its Usage Limits allow (KMIP). */
  | 'usage-limit-exhausted'
  /** The usage audit can take no more records of this tenant: no crypto operation runs. */
  | 'audit-unavailable';

export class KeyUseError extends CodedError<KeyUseErrorCode> {
  constructor(
    code: KeyUseErrorCode,
    message: string,
    details: Readonly<Record<string, unknown>> = {},
    /** When trying again may succeed: how long to wait first. */
    readonly retryAfterSeconds?: number,
  ) {
    super(code, message, details);
  }
}

export const sealedError = (reason: string): KeyUseError =>
  new KeyUseError('sealed', `the key manager is sealed: ${reason}; unseal it to use keys`, {}, 5);

export const alreadyUnsealedError = (): KeyUseError => new KeyUseError('already-unsealed', 'the key manager is already unsealed');

export const malformedError = (what: 'ciphertext' | 'MAC', reason: string): KeyUseError =>
  new KeyUseError(what === 'MAC' ? 'malformed-mac' : 'malformed-ciphertext', `not a Keyward ${what}: ${reason}`);

export const authenticationFailedError = (): KeyUseError =>
  new KeyUseError(
    'authentication-failed',
    'the ciphertext or its AAD failed authentication: it was altered, or the AAD differs from the one used when encrypting',
  );

export const materialGoneError = (keyId: string, version: number): KeyUseError =>
  new KeyUseError('key-destroyed', `the material of version ${version} of key ${keyId} no longer exists`, { keyId, version });

export const kekGoneError = (tenantId: string): KeyUseError =>
  new KeyUseError('key-destroyed', `the key-encrypting key of tenant ${tenantId} no longer exists`, { tenantId });

export const keystoreIntegrityError = (what: string): KeyUseError =>
  new KeyUseError(
    'keystore-integrity',
    `${what} failed authentication in the keystore; it may have been altered. Restore it from a backup.`,
  );

export const versionExhaustedError = (ref: MaterialRef, limit: number): KeyUseError =>
  new KeyUseError(
    'key-version-exhausted',
    `version ${ref.version} of key ${ref.keyId} has made the ${limit} AES-GCM encryptions one key may make with random IVs (NIST SP 800-38D); rotate the key (POST /v1/keys/${ref.keyId}/rotate) to encrypt again. Decryption with this version still works.`,
    { keyId: ref.keyId, version: ref.version, limit },
  );

export const usageLimitExhaustedError = (keyId: string, total: number, unit: string): KeyUseError =>
  new KeyUseError(
    'usage-limit-exhausted',
    `key ${keyId} has reached its Usage Limits (${total} ${unit}${total === 1 ? '' : 's'}): it protects nothing more; it still decrypts and verifies`,
    { keyId, total, unit },
  );

export const auditUnavailableError = (retryAfterSeconds: number): KeyUseError =>
  new KeyUseError(
    'audit-unavailable',
    "this tenant's usage audit records can be neither sent nor stored right now (the usage topic and the outbox are unavailable or full), so no crypto operation runs; retry later",
    {},
    retryAfterSeconds,
  );

/** The name a domain refusal is known by outside the domain: the REST problem type and the usage audit outcome. */
const REFUSAL_NAMES: Readonly<Record<DomainErrorCode, string>> = {
  'not-found': 'not-found',
  'already-exists': 'already-exists',
  'illegal-transition': 'illegal-transition',
  invalid: 'invalid',
  'tenant-inactive': 'tenant-inactive',
  'wrong-usage': 'wrong-key-usage',
  'key-unusable': 'key-unusable',
  'key-destroyed': 'key-destroyed',
  'version-retired': 'key-version-retired',
  'legacy-refused': 'legacy-encryption-refused',
  'key-reuse-refused': 'key-reuse-refused',
  'approval-required': 'approval-required',
  forbidden: 'forbidden',
  'quota-exceeded': 'quota-exceeded',
  'rate-exceeded': 'tenant-rate-exceeded',
};

export const refusalName = (err: DomainError): string => REFUSAL_NAMES[err.code];

/** The outcome a usage record keeps for an operation that threw `err`. */
export function usageOutcome(err: unknown): string {
  if (err instanceof KeyUseError) return err.code;
  if (err instanceof DomainError) return refusalName(err);
  return 'error';
}
