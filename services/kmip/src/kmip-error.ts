import { ResultReason } from '@keyward/kmip';
import { DomainError, type DomainErrorCode } from '@keyward/domain';
import { AuthenticationFailed } from '@keyward/crypto';
import { ProblemError } from '@keyward/platform';

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
  'approval-required': ResultReason.PermissionDenied,
  'quota-exceeded': ResultReason.PermissionDenied,
  'rate-exceeded': ResultReason.PermissionDenied,
};

/** Maps whatever an operation threw onto a KMIP error: the domain's refusals keep their message. */
export function toKmipError(err: unknown): KmipError {
  if (err instanceof KmipError) return err;
  if (err instanceof DomainError) return new KmipError(DOMAIN_REASONS[err.code], err.message, err.code);
  if (err instanceof AuthenticationFailed)
    return new KmipError(ResultReason.CryptographicFailure, 'authentication failed', 'authentication-failed');
  if (err instanceof ProblemError) {
    const reason =
      err.status === 404 ? ResultReason.ItemNotFound : err.status === 409 ? ResultReason.IllegalOperation : ResultReason.GeneralFailure;
    return new KmipError(reason, err.detail ?? err.title, err.slug);
  }
  return new KmipError(ResultReason.GeneralFailure, 'internal error', 'internal-error');
}
