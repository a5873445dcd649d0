/** The problem names (`urn:keyward:problem:<name>`) key-api documents for the data plane and its doors. */
export type KnownProblem =
  | 'validation'
  | 'unauthenticated'
  | 'client-certificate-required'
  | 'mtls-required'
  | 'forbidden-role'
  | 'not-found'
  | 'key-unusable'
  | 'key-destroyed'
  | 'key-version-retired'
  | 'key-version-exhausted'
  | 'wrong-key-usage'
  | 'authentication-failed'
  | 'malformed-ciphertext'
  | 'payload-too-large'
  | 'tenant-inactive'
  | 'rate-limited'
  | 'too-many-requests'
  | 'sealed'
  | 'audit-unavailable'
  | 'seq-not-reached';

/** An RFC 9457 problem document as key-api answers it. */
export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly [extension: string]: unknown;
}

const PREFIX = 'urn:keyward:problem:';

/**
 * A refusal by key-api (4xx/5xx), with its problem document: `problem` names it
 * (`key-unusable`, `authentication-failed`, …), `status` is the HTTP status, `document` holds
 * the extensions (`headSeq`, `limit`, …). Not retried unless the status was 429 or 503.
 */
export class KeywardProblemError extends Error {
  readonly problem: KnownProblem | (string & {});
  readonly document: ProblemDocument;

  constructor(
    readonly status: number,
    document: Partial<ProblemDocument> | undefined,
    readonly retryAfterMs?: number,
  ) {
    const type = typeof document?.type === 'string' ? document.type : `${PREFIX}http-${status}`;
    const title = typeof document?.title === 'string' ? document.title : `HTTP ${status}`;
    const full: ProblemDocument = { ...document, type, title, status };
    super(`${status} ${type.startsWith(PREFIX) ? type.slice(PREFIX.length) : type}: ${full.detail ?? title}`);
    this.name = 'KeywardProblemError';
    this.document = full;
    this.problem = type.startsWith(PREFIX) ? type.slice(PREFIX.length) : type;
  }

  /** Whether this is the named problem (`err.is('key-unusable')`). */
  is(problem: KnownProblem): boolean {
    return this.problem === problem;
  }
}

/** key-api could not be reached, or the connection failed before an answer (never a refusal). */
export class KeywardTransportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeywardTransportError';
  }
}
