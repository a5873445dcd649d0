import type { LoggerService } from '@nestjs/common';

/**
 * Nest's own start-up chatter: module wiring, the route table (one line per route), "application
 * started". Logged at debug, so that a start shows what a person needs (listening, warnings) and
 * `LOG_LEVEL=debug` still shows the routes.
 */
export const NEST_BOOT_CONTEXTS: ReadonlySet<string> = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** Nest's logger with its start-up `log` lines (by their context, the last argument) moved to debug. */
export function quietNestBoot(logger: LoggerService): LoggerService {
  const boot = (params: unknown[]): boolean => {
    const context = params.at(-1);
    return typeof context === 'string' && NEST_BOOT_CONTEXTS.has(context);
  };
  return {
    log: (message: unknown, ...params: unknown[]): void => {
      if (boot(params)) logger.debug?.(message, ...params);
      else logger.log(message, ...params);
    },
    error: (message: unknown, ...params: unknown[]): void => {
      logger.error(message, ...params);
    },
    warn: (message: unknown, ...params: unknown[]): void => {
      logger.warn(message, ...params);
    },
    debug: (message: unknown, ...params: unknown[]): void => {
      logger.debug?.(message, ...params);
    },
    verbose: (message: unknown, ...params: unknown[]): void => {
      logger.verbose?.(message, ...params);
    },
    fatal: (message: unknown, ...params: unknown[]): void => {
      logger.fatal?.(message, ...params);
    },
  };
}
