/**
 * Why a command was refused. The edge maps each code to one HTTP status:
 * not-found 404, already-exists 409, illegal-transition 409, invalid 422, tenant-inactive 423.
 */
export type DomainErrorCode = 'not-found' | 'already-exists' | 'illegal-transition' | 'invalid' | 'tenant-inactive';

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
