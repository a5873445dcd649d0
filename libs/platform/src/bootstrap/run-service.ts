import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Logger, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger as PinoLogger } from 'nestjs-pino';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KeywardConfig, ListenSetting } from '@keyward/config';
import type { Logger as PinoRoot } from 'pino';
import { setBusinessClockOffset } from '../clock/business-clock';
import { ROOT_LOGGER } from '../logging/logging.module';
import { installRequestLog } from '../logging/request-log';
import { MetricsRegistry } from '../metrics/metrics.registry';
import { ProblemFilter } from '../problem/problem.filter';

/** Accepted shape for a caller-supplied X-Request-Id; anything else is replaced. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export interface ServiceOptions {
  readonly name: string;
  readonly module: Type<unknown> | DynamicModule;
  readonly config: KeywardConfig;
  readonly listen: ListenSetting;
  readonly https?: {
    readonly key: Buffer;
    readonly cert: Buffer;
    /** CAs that client certificates are verified against. */
    readonly ca?: Buffer;
    /** Mutual TLS: ask for a client certificate; `required` refuses connections without a valid one. */
    readonly clientCertificates?: 'optional' | 'required';
  };
  /** Largest accepted request body, in bytes. */
  readonly bodyLimit?: number;
  /** Logged as warnings once the structured logger is in place. */
  readonly startupWarnings?: readonly string[];
  readonly configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

/** Creates, configures and starts one Keyward service on Fastify; returns the running app. */
export async function runService(options: ServiceOptions): Promise<NestFastifyApplication> {
  setBusinessClockOffset(options.config.clockOffsetMs);
  const adapter = new FastifyAdapter({
    ...(options.https
      ? {
          https: {
            key: options.https.key,
            cert: options.https.cert,
            ...(options.https.ca ? { ca: options.https.ca } : {}),
            ...(options.https.clientCertificates
              ? { requestCert: true, rejectUnauthorized: options.https.clientCertificates === 'required' }
              : {}),
          },
        }
      : {}),
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    trustProxy: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // No Express-style middleware anywhere (request logs are Fastify hooks): without
    // @fastify/middie, no request pays for a middleware engine that has nothing to run.
    skipMiddie: true,
    requestIdHeader: false,
    genReqId: (raw: IncomingMessage) => {
      const given = raw.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(options.module, adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(PinoLogger));
  app.useGlobalFilters(new ProblemFilter());

  const fastify = app.getHttpAdapter().getInstance();
  installRequestLog(fastify, app.get<PinoRoot>(ROOT_LOGGER));
  const metrics = app.get(MetricsRegistry);
  const logger = new Logger(options.name);
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  // Fastify's own errors (body parsing, size limits) and unknown routes reach ProblemFilter
  // through Nest's error and not-found handlers.
  for (const note of options.startupWarnings ?? []) logger.warn(note);
  await options.configure?.(app);
  await app.listen(options.listen.port, options.listen.host);
  // Graceful stop: stop accepting, drain in-flight requests, run shutdown hooks, exit 0; a
  // stop that outlasts the grace period exits 1.
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: draining and stopping`);
    setTimeout(() => {
      logger.error(`still stopping after ${options.config.shutdownGraceMs} ms; exiting`);
      process.exit(1);
    }, options.config.shutdownGraceMs).unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`error while stopping: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  const scheme = options.https ? 'https' : 'http';
  logger.log(`${options.name} listening on ${scheme}://${options.listen.host}:${options.listen.port}`);
  return app;
}
