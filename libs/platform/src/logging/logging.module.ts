import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { type Logger } from 'pino';
import type { KeywardConfig } from '@keyward/config';
import { currentSurroundings, logOutput } from './log-format';

/** The service's pino logger, for the request log hooks (see request-log.ts). */
export const ROOT_LOGGER = Symbol('keyward:root-logger');

/**
 * Structured JSON logs (pino) behind Nest's Logger; short readable lines on a terminal in
 * development (log-format.ts). Request lines come from Fastify hooks
 * (request-log.ts) rather than pino-http middleware: that middleware made every request, the data
 * plane included, pay for @fastify/middie and Nest's middleware chain. A request line carries the
 * request id, route, status, time, tenant and principal; never headers, query strings or bodies
 * (they may hold key material).
 */
@Module({})
export class LoggingModule {
  static forRoot(config: KeywardConfig, service: string): DynamicModule {
    const output = logOutput(config, currentSurroundings());
    const logger: Logger = pino({
      ...(output.format === 'pretty' ? { transport: output.transport } : {}),
      level: config.logLevel,
      base: { service, pid: process.pid },
      messageKey: 'msg',
      serializers: { err: (err: Error) => ({ type: err.name, message: err.message }) },
    });
    return {
      module: LoggingModule,
      global: true,
      // No routes: nestjs-pino provides the Logger only, and no middleware is registered.
      imports: [LoggerModule.forRoot({ pinoHttp: { logger }, forRoutes: [] })],
      providers: [{ provide: ROOT_LOGGER, useValue: logger }],
      exports: [ROOT_LOGGER],
    };
  }
}
