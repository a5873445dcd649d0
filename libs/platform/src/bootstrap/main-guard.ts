import { ConfigError, loadConfig, type KeywardConfig } from '@keyward/config';

/** Exit code for bad configuration (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

/**
 * Runs a service's start-up: configuration errors end the process with a message naming the
 * setting; any other start-up failure ends it with a one-line reason (no stack unless debugging).
 */
export function startMain(name: string, start: (config: KeywardConfig) => Promise<unknown>): void {
  let config: KeywardConfig;
  try {
    config = loadConfig();
  } catch (err: unknown) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
  start(config).catch((err: unknown) => {
    const reason = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${name}: failed to start: ${reason}\n`);
    if (process.env.LOG_LEVEL === 'debug' && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
    process.exit(1);
  });
}
