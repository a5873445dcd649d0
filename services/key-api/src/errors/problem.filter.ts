import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ShareError } from '@keyward/crypto';
import { DomainError, type DomainErrorCode } from '@keyward/domain';
import { KeyUseError, refusalName, type KeyUseErrorCode } from '@keyward/keys';
import { ProblemError, sendProblem } from '@keyward/platform';

/** The HTTP status and problem title of each domain refusal (its type is refusalName, shared with the usage audit). */
const REFUSALS: Readonly<Record<DomainErrorCode, [number, string]>> = {
  'not-found': [404, 'Not found'],
  'already-exists': [409, 'Already exists'],
  'illegal-transition': [409, 'Illegal lifecycle transition'],
  invalid: [422, 'Unprocessable content'],
  'tenant-inactive': [423, 'Tenant not active'],
  'wrong-usage': [422, 'Key cannot do this'],
  'key-unusable': [409, 'Key not usable for this operation'],
  'key-destroyed': [409, 'Key destroyed'],
  'version-retired': [409, 'Key version retired'],
  'legacy-refused': [403, 'Legacy encryption not allowed'],
  'key-reuse-refused': [403, 'Key reuse not allowed'],
  'approval-required': [409, 'Approval required'],
  forbidden: [403, 'Forbidden'],
  'quota-exceeded': [409, 'Tenant quota exceeded'],
  'rate-exceeded': [429, 'Tenant rate quota exceeded'],
};

/** The HTTP status and problem title of each key-use error (its type is its code). */
const KEY_USE: Readonly<Record<KeyUseErrorCode, [number, string]>> = {
  sealed: [503, 'Sealed'],
  'already-unsealed': [409, 'Already unsealed'],
  'root-key-mismatch': [422, 'Wrong root key'],
  'malformed-ciphertext': [400, 'Malformed ciphertext'],
  'malformed-mac': [400, 'Malformed MAC'],
  'authentication-failed': [422, 'Authentication failed'],
  'mac-key-mismatch': [422, 'MAC made with another key'],
  'weak-wrapping-key': [422, 'Unsuitable wrapping key'],
  'unsupported-digest': [422, 'Digest not signable'],
  'plaintext-too-large': [413, 'Plaintext too large for the key'],
  'key-destroyed': [409, 'Key destroyed'],
  'keystore-integrity': [503, 'Keystore integrity failure'],
  'key-version-exhausted': [409, 'Key version exhausted'],
  'usage-limit-exhausted': [403, 'Usage limit reached'],
  'audit-unavailable': [503, 'Usage audit unavailable'],
};

const START_OVER = 'DELETE /v1/sys/unseal/shares discards the shares submitted so far';

const retryAfter = (seconds: unknown): Record<string, string> => (typeof seconds === 'number' ? { 'retry-after': String(seconds) } : {});

function shareProblem(err: ShareError): ProblemError {
  switch (err.code) {
    case 'format':
    case 'checksum':
    case 'version':
      return new ProblemError(400, 'invalid-share', 'Invalid share', err.message, { reason: err.code });
    case 'set-mismatch':
      return new ProblemError(422, 'share-set-mismatch', 'Share of another set', `${err.message}; ${START_OVER}`, err.details);
    case 'conflict':
      return new ProblemError(422, 'share-conflict', 'Conflicting share', `${err.message}; ${START_OVER}`, err.details);
    case 'inconsistent':
    case 'insufficient':
      return new ProblemError(
        422,
        'shares-inconsistent',
        'Shares do not combine',
        `${err.message}. The submitted shares were discarded: submit them again, each checked against its original.`,
        err.details,
      );
  }
}

/**
 * The problem document a typed error (a domain refusal, a key-use error, a refused unseal share)
 * answers with; anything else is returned as it is (the platform's toProblem handles it).
 */
export function problemOf(err: unknown): unknown {
  if (err instanceof DomainError) {
    const [status, title] = REFUSALS[err.code];
    return new ProblemError(status, refusalName(err), title, err.message, err.details, retryAfter(err.details.retryAfterSeconds));
  }
  if (err instanceof KeyUseError) {
    const [status, title] = KEY_USE[err.code];
    return new ProblemError(status, err.code, title, err.message, err.details, retryAfter(err.retryAfterSeconds));
  }
  if (err instanceof ShareError) return shareProblem(err);
  return err;
}

/** Answers any error of a request as its RFC 9457 problem document (the data plane's Fastify routes too). */
export function sendKeyApiProblem(request: FastifyRequest, reply: FastifyReply, err: unknown, logger: Logger): void {
  sendProblem(request, reply, problemOf(err), logger);
}

/** key-api's one global exception filter: typed errors of the domain and libs/keys become problems here, and only here. */
@Catch()
export class KeyApiProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('problem');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    sendKeyApiProblem(ctx.getRequest<FastifyRequest>(), ctx.getResponse<FastifyReply>(), exception, this.logger);
  }
}
