import { HttpException, HttpStatus } from '@nestjs/common';
import { ProblemError } from './problem';

const TITLES: Readonly<Record<number, [slug: string, title: string]>> = {
  400: ['bad-request', 'Bad request'],
  401: ['unauthenticated', 'Authentication required'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  406: ['not-acceptable', 'Not acceptable'],
  409: ['conflict', 'Conflict'],
  412: ['precondition-failed', 'Precondition failed'],
  413: ['payload-too-large', 'Payload too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  422: ['unprocessable', 'Unprocessable content'],
  423: ['locked', 'Locked'],
  429: ['too-many-requests', 'Too many requests'],
  503: ['unavailable', 'Service unavailable'],
};

/** Driver errors that mean "the database or broker is away", not "the request was wrong". */
const UNAVAILABLE =
  /^(MongoServerSelectionError|MongoNetworkError|MongoNetworkTimeoutError|MongoTopologyClosedError|MongoNotConnectedError|MongoPoolClearedError|PoolClearedOnNetworkError|MongoWaitQueueTimeoutError|MongoOperationTimeoutError|KafkaJSConnectionError|KafkaJSNumberOfRetriesExceeded)$/;

/** Fastify's own errors (body parsing, limits) carry a code and a statusCode. */
interface FastifyLikeError {
  readonly code?: string;
  readonly statusCode?: number;
  readonly message?: string;
}

function generic(status: number, detail?: string, extensions: Record<string, unknown> = {}): ProblemError {
  const [slug, title] = TITLES[status] ?? (status >= 500 ? ['internal', 'Internal error'] : ['error', 'Error']);
  return new ProblemError(status, slug, title, detail, extensions);
}

/**
 * Maps anything thrown while serving a request to a problem. Only messages we wrote reach the
 * client: unknown errors become a bare 500 whose details stay in the log.
 */
export function toProblem(err: unknown): { problem: ProblemError; unexpected: boolean } {
  if (err instanceof ProblemError) return { problem: err, unexpected: false };
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const body = err.getResponse();
    if (typeof body === 'object' && 'status' in body && 'details' in body) {
      // @nestjs/terminus readiness failure: keep the per-dependency details.
      return { problem: generic(503, 'a dependency is not ready', { checks: body.details }), unexpected: false };
    }
    const message = typeof body === 'object' && 'message' in body ? body.message : err.message;
    const detail = Array.isArray(message) ? message.map(String).join('; ') : String(message);
    return { problem: generic(status, detail), unexpected: status >= 500 };
  }
  if (err instanceof Error && UNAVAILABLE.test(err.name)) {
    const unavailable = generic(503, 'a dependency (MongoDB or Kafka) is unavailable; retry shortly');
    return {
      problem: new ProblemError(503, unavailable.slug, unavailable.title, unavailable.detail, {}, { 'retry-after': '2' }),
      unexpected: false,
    };
  }
  const fastify = err as FastifyLikeError;
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    const detail =
      fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'request body exceeds the size limit'
        : fastify.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'content type not supported; send application/json'
          : fastify.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
            ? 'request body is empty but content-type is application/json'
            : fastify.code?.startsWith('FST_ERR_CTP') === true || err instanceof SyntaxError
              ? 'request body is not valid JSON'
              : (fastify.message ?? undefined);
    return { problem: generic(fastify.statusCode, detail), unexpected: false };
  }
  return {
    problem: generic(HttpStatus.INTERNAL_SERVER_ERROR, 'unexpected error; see the server log for this request id'),
    unexpected: true,
  };
}
