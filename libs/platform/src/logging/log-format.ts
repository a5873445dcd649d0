import type { KeywardConfig } from '@keyward/config';
import type { TransportSingleOptions } from 'pino';

/** The package that turns pino's JSON into short readable lines (optional: a development dependency). */
export const PRETTY_PACKAGE = 'pino-pretty';

/** Where a service's log lines go and how they look: JSON, or readable lines on a terminal. */
export type LogOutput = { readonly format: 'json' } | { readonly format: 'pretty'; readonly transport: TransportSingleOptions };

export interface LogSurroundings {
  /** Whether stdout is a terminal. */
  readonly tty: boolean;
  /** The resolved path of pino-pretty, or null when it is not installed. */
  readonly pretty: string | null;
}

/**
 * `auto` is readable lines on a terminal outside production, JSON otherwise (pipes, files, log
 * shippers, production); `pretty` asks for readable lines anywhere. Without pino-pretty both fall
 * back to JSON.
 */
export function logOutput(config: Pick<KeywardConfig, 'env' | 'logFormat'>, around: LogSurroundings): LogOutput {
  const wanted = config.logFormat === 'auto' ? (around.tty && config.env !== 'production' ? 'pretty' : 'json') : config.logFormat;
  if (wanted === 'json' || around.pretty === null) return { format: 'json' };
  return {
    format: 'pretty',
    transport: {
      target: around.pretty,
      options: {
        colorize: around.tty,
        translateTime: 'SYS:HH:MM:ss',
        ignore: 'pid,hostname,service,context',
        messageFormat: '{service} {if context}{context}: {end}{msg}',
        singleLine: true,
      },
    },
  };
}

/** The surroundings of this process: its stdout, and pino-pretty if installed. */
export function currentSurroundings(): LogSurroundings {
  let pretty: string | null;
  try {
    pretty = require.resolve(PRETTY_PACKAGE);
  } catch {
    pretty = null;
  }
  return { tty: process.stdout.isTTY, pretty };
}
