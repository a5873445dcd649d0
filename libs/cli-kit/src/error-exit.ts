import { EnvelopeError, KeywardProblemError } from '@keyward/sdk';
import { isParseArgsError, messageOf, UsageError } from './errors';
import { ExitCode } from './exit-codes';

/** What a command line does with an error: its exit code, the line it prints, whether to point at --help. */
export interface ErrorOutcome {
  readonly code: ExitCode;
  readonly message: string;
  readonly usageHint: boolean;
}

/**
 * An error of @keyward/config (ConfigError) or @keyward/crypto (BackupError), told by the name its
 * class sets: importing those libraries here would load MongoDB's driver, zod and the ASN.1 stack
 * into every command line before it parses its arguments (`keyward encrypt` has to stay small).
 */
const named = (err: unknown, name: 'ConfigError' | 'BackupError'): err is Error & { readonly code?: unknown } =>
  err instanceof Error && err.name === name;

/** The one place where typed errors become exit codes (and the text printed for them). */
export function errorOutcome(err: unknown): ErrorOutcome {
  if (err instanceof UsageError || isParseArgsError(err)) return { code: ExitCode.Usage, message: messageOf(err), usageHint: true };
  if (named(err, 'ConfigError')) return { code: ExitCode.Config, message: err.message, usageHint: false };
  if (named(err, 'BackupError') && typeof err.code === 'string')
    return { code: ExitCode.Error, message: `refused (${err.code}): ${err.message}`, usageHint: false };
  if (err instanceof EnvelopeError) return { code: ExitCode.Error, message: `refused (${err.code}): ${err.message}`, usageHint: false };
  if (err instanceof KeywardProblemError) {
    const detail = typeof err.document.detail === 'string' ? err.document.detail : err.document.title;
    return { code: ExitCode.Error, message: `refused (${err.status} ${err.problem}): ${detail}`, usageHint: false };
  }
  return { code: ExitCode.Error, message: messageOf(err), usageHint: false };
}
