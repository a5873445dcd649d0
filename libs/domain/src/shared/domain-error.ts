import { CodedError } from './coded-error';

/**
 * Why a command was refused. The edge maps each code to one HTTP status:
 * not-found 404, already-exists 409, illegal-transition 409, invalid 422, tenant-inactive 423,
 * and for crypto use: wrong-usage 422, key-unusable 409, key-destroyed 409, version-retired 409,
 * legacy-refused 403 (a legacy key type the tenant policy does not let encrypt);
 * key-reuse-refused 403 (a key's second usage, KEY_REUSE, that the tenant policy does not allow);
 * approval-required 409 (a sensitive command sent without going through an approval request);
 * quota-exceeded 409 (a per-tenant count quota), rate-exceeded 429 (a per-tenant rate quota);
 * forbidden 403 (the caller may not act on this key: an appliance on a key it does not own, or no
 * grant allows this use of a key the principal holds a grant on).
 */
export type DomainErrorCode =
  | 'not-found'
  | 'already-exists'
  | 'illegal-transition'
  | 'invalid'
  | 'tenant-inactive'
  | 'wrong-usage'
  | 'key-unusable'
  | 'key-destroyed'
  | 'version-retired'
  | 'legacy-refused'
  | 'key-reuse-refused'
  | 'approval-required'
  | 'forbidden'
  | 'quota-exceeded'
  | 'rate-exceeded';

export class DomainError extends CodedError<DomainErrorCode> {}

export const refuse = (code: DomainErrorCode, message: string, details?: Record<string, unknown>): never => {
  throw new DomainError(code, message, details);
};
