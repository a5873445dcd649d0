/** Why an envelope message was refused. */
export type EnvelopeErrorCode = 'not-envelope' | 'unsupported-format' | 'tampered' | 'truncated' | 'wrong-data-key';

/** A message that is not a Keyward envelope, or was altered, truncated, reordered or opened with the wrong data key. */
export class EnvelopeError extends Error {
  constructor(
    readonly code: EnvelopeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EnvelopeError';
  }
}
