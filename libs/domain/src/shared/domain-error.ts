/**
 * Why a command was refused. The edge maps each code to one HTTP status:
 * not-found 404, already-exists 409, illegal-transition 409, invalid 422, tenant-inactive 423,
 * and for crypto use: wrong-usage 422, key-unusable 409, key-destroyed 409, version-retired 409.
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
  | 'version-retired';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const refuse = (code: DomainErrorCode, message: string, details?: Record<string, unknown>): never => {
  throw new DomainError(code, message, details);
};
