import { DomainError, type DomainErrorCode } from '@keyward/domain';
import { ProblemError } from '@keyward/platform';

const STATUS: Readonly<Record<DomainErrorCode, [number, string, string]>> = {
  'not-found': [404, 'not-found', 'Not found'],
  'already-exists': [409, 'already-exists', 'Already exists'],
  'illegal-transition': [409, 'illegal-transition', 'Illegal lifecycle transition'],
  invalid: [422, 'invalid', 'Unprocessable content'],
  'tenant-inactive': [423, 'tenant-inactive', 'Tenant not active'],
  'wrong-usage': [422, 'wrong-key-usage', 'Key cannot do this'],
  'key-unusable': [409, 'key-unusable', 'Key not usable for this operation'],
  'key-destroyed': [409, 'key-destroyed', 'Key destroyed'],
  'version-retired': [409, 'key-version-retired', 'Key version retired'],
  'approval-required': [409, 'approval-required', 'Approval required'],
  'quota-exceeded': [409, 'quota-exceeded', 'Tenant quota exceeded'],
  'rate-exceeded': [429, 'tenant-rate-exceeded', 'Tenant rate quota exceeded'],
};

/** A refused command as the problem document the API answers with. */
export function domainProblem(err: DomainError): ProblemError {
  const [status, slug, title] = STATUS[err.code];
  const retryAfter = err.details.retryAfterSeconds;
  return new ProblemError(
    status,
    slug,
    title,
    err.message,
    err.details,
    typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {},
  );
}

/** Runs `work`, turning a DomainError into its problem document. */
export async function asProblem<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err: unknown) {
    if (err instanceof DomainError) throw domainProblem(err);
    throw err;
  }
}
