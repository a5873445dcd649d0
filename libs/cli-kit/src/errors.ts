/** The command line itself is wrong (exit code 64); the message says what to change. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A request refused by the other side (key-api answered 4xx/5xx): `code` names the refusal, as
 * `refused (<code>): <detail>` on standard error.
 */
export class Refused extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(`refused (${code}): ${detail}`);
    this.name = 'Refused';
  }
}

/** The errors util.parseArgs throws for an unknown option, a missing value, a stray argument. */
export function isParseArgsError(err: unknown): err is Error & { code: string } {
  if (!(err instanceof Error)) return false;
  const code: unknown = (err as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
