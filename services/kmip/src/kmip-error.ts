import { ResultReason } from '@keyward/kmip';
import { DomainError, type DomainErrorCode } from '@keyward/domain';
import { AuthenticationFailed, BlockCipherParameterError } from '@keyward/crypto';
import { KeyUseError, type KeyUseErrorCode } from '@keyward/keys';

/** A batch item that fails: the KMIP Result Reason and Result Message the client receives. */
export class KmipError extends Error {
  constructor(
    readonly reason: number,
    message: string,
    /** The slug recorded in the usage audit (REST's problem slug where there is one). */
    readonly slug = 'kmip-error',
  ) {
    super(message);
    this.name = 'KmipError';
  }
}

const DOMAIN_REASONS: Record<DomainErrorCode, number> = {
  'not-found': ResultReason.ItemNotFound,
  'already-exists': ResultReason.InvalidField,
  'illegal-transition': ResultReason.IllegalOperation,
  invalid: ResultReason.InvalidField,
  'tenant-inactive': ResultReason.PermissionDenied,
  'wrong-usage': ResultReason.IllegalOperation,
  'key-unusable': ResultReason.IllegalOperation,
  'key-destroyed': ResultReason.IllegalOperation,
  'version-retired': ResultReason.IllegalOperation,
  'legacy-refused': ResultReason.PermissionDenied,
  'key-reuse-refused': ResultReason.PermissionDenied,
  'approval-required': ResultReason.PermissionDenied,
  forbidden: ResultReason.PermissionDenied,
  'quota-exceeded': ResultReason.PermissionDenied,
  'rate-exceeded': ResultReason.PermissionDenied,
};

/** The Result Reason of each key-use error (libs/keys); its code is the slug the usage audit records. */
const KEY_USE_REASONS: Record<KeyUseErrorCode, number> = {
  sealed: ResultReason.GeneralFailure,
  'already-unsealed': ResultReason.IllegalOperation,
  'root-key-mismatch': ResultReason.GeneralFailure,
  'malformed-ciphertext': ResultReason.GeneralFailure,
  'malformed-mac': ResultReason.GeneralFailure,
  'authentication-failed': ResultReason.GeneralFailure,
  'mac-key-mismatch': ResultReason.GeneralFailure,
  'weak-wrapping-key': ResultReason.GeneralFailure,
  'unsupported-digest': ResultReason.InvalidField,
  'plaintext-too-large': ResultReason.InvalidField,
  'key-destroyed': ResultReason.IllegalOperation,
  'keystore-integrity': ResultReason.GeneralFailure,
  'key-version-exhausted': ResultReason.IllegalOperation,
  'usage-limit-exhausted': ResultReason.PermissionDenied,
  'audit-unavailable': ResultReason.GeneralFailure,
};

/** Maps whatever an operation threw onto a KMIP error: the domain's refusals keep their message. */
export function toKmipError(err: unknown): KmipError {
  if (err instanceof KmipError) return err;
  if (err instanceof DomainError) return new KmipError(DOMAIN_REASONS[err.code], err.message, err.code);
  if (err instanceof AuthenticationFailed)
    return new KmipError(ResultReason.CryptographicFailure, 'authentication failed', 'authentication-failed');
  if (err instanceof KeyUseError) return new KmipError(KEY_USE_REASONS[err.code], err.message, err.code);
  if (err instanceof BlockCipherParameterError) {
    return new KmipError(err.kind === 'invalid' ? ResultReason.InvalidField : ResultReason.FeatureNotSupported, err.message);
  }
  return new KmipError(ResultReason.GeneralFailure, 'internal error', 'internal-error');
}

/** KMIP 2.1 or later: a Unique Identifier that names no object is Object Not Found (1.x and 2.0: Item Not Found), a destroyed one Object Destroyed. */
const hasObjectNotFound = (version: { readonly major: number; readonly minor: number }): boolean =>
  version.major > 2 || (version.major === 2 && version.minor >= 1);

/** The error as the protocol version the client speaks names it (the message and the audit slug stay). */
export function inProtocolVersion(err: KmipError, version: { readonly major: number; readonly minor: number }): KmipError {
  if (err.reason === ResultReason.ItemNotFound && hasObjectNotFound(version))
    return new KmipError(ResultReason.ObjectNotFound, err.message, err.slug);
  // A destroyed object (or one pending destruction, reported as destroyed) is Object Destroyed in 2.1 (BL-M-8-21).
  if (err.slug === 'key-destroyed' && hasObjectNotFound(version)) return new KmipError(ResultReason.ObjectDestroyed, err.message, err.slug);
  return err;
}
