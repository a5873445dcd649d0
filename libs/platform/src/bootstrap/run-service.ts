import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger, type DynamicModule, type ExceptionFilter, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger as PinoLogger } from 'nestjs-pino';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KeywardConfig, ListenSetting } from '@keyward/config';
import type { Logger as PinoRoot } from 'pino';
import { setBusinessClockOffset } from '../clock/business-clock';
import { ROOT_LOGGER } from '../logging/logging.module';
import { quietNestBoot } from '../logging/nest-boot-logger';
import { acceptEmptyJsonBodies } from '../http/json-body';
import { drainUnreadBodies } from '../http/unread-body';
import { installRequestLog } from '../logging/request-log';
import { MetricsRegistry } from '../metrics/metrics.registry';
import { problemType } from '../problem/problem';
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
  /** The one global filter every error leaves through (default ProblemFilter); a service passes its own to map its typed errors. */
  readonly exceptionFilter?: ExceptionFilter;
}

/**
 * A request Node refused before routing (too slow: 408; headers too large: 431; malformed: 400)
 * gets a problem document, then the connection is closed.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, slug, title] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request-timeout', 'Request timeout']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers-too-large', 'Request headers too large']
        : [400, 'bad-request', 'Bad request'];
  const body = JSON.stringify({ type: problemType(slug), title, status });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Creates, configures and starts one Keyward service on Fastify; returns the running app. */
export async function runService(options: ServiceOptions): Promise<NestFastifyApplication> {
  setBusinessClockOffset(options.config.clockOffsetMs);
  const timeouts = options.config.limits.http;
  // Node checks request and header deadlines on a timer (30 s by default): check often enough
  // that a slow client is cut off close to its deadline.
  const deadlines = {
    headersTimeout: timeouts.headersTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(timeouts.headersTimeoutMs / 2))),
  };
  const adapter = new FastifyAdapter({
    // A slow or silent client cannot hold a connection: whole request, headers, idle socket, keep-alive.
    requestTimeout: timeouts.requestTimeoutMs,
    connectionTimeout: timeouts.connectionTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    http: deadlines,
    ...(options.https
      ? {
          https: {
            ...deadlines,
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
    clientErrorHandler: answerClientError,
    genReqId: (raw: IncomingMessage) => {
      const given = raw.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(options.module, adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(quietNestBoot(app.get(PinoLogger)));
  app.useGlobalFilters(options.exceptionFilter ?? new ProblemFilter());

  const fastify = app.getHttpAdapter().getInstance();
  // Beyond this many open connections Node drops new ones at once (before any byte is read).
  fastify.server.maxConnections = timeouts.maxConnections;
  acceptEmptyJsonBodies(app);
  drainUnreadBodies(fastify);
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
