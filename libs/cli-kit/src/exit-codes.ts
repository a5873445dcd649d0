/**
 * The exit codes of every Keyward command line (`keyward …`, `keyward backup …`, `keyward replay`).
 * 64 and 78 are the BSD sysexits codes, as the services use 78 for a bad configuration.
 */
export const ExitCode = {
  /** Done. */
  Ok: 0,
  /** An error, or a request the server or the data refused. */
  Error: 1,
  /** A check ran and found a problem (audit verify, replay, checkpoint signatures). */
  CheckFailed: 2,
  /** The command line was wrong: unknown verb or option, missing or malformed argument. */
  Usage: 64,
  /** The configuration (environment) is invalid. */
  Config: 78,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
