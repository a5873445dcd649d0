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

/** The message of anything thrown (an Error of another realm too, as under a test runner). */
export function messageOf(err: unknown): string {
  const message: unknown = typeof err === 'object' && err !== null ? (err as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(err);
}

/**
 * The errors util.parseArgs throws for an unknown option, a missing value, a stray argument
 * (recognised by their code: Node's own errors are not always of this realm's Error).
 */
export function isParseArgsError(err: unknown): boolean {
  const code: unknown = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
