import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { requestContext } from './request-context';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Log this route's requests only when they fail (>= 400): its successes are audited elsewhere. */
    readonly quietSuccess?: boolean;
  }
}

const UNLOGGED = /^\/(health|metrics)(\/|\?|$)/;

/**
 * One line per finished request: request id, method, path (never the query), status, time, and
 * who called (tenant, principal, role) once authentication knew it. Health probes and metrics
 * scrapes are not logged; routes with `config.quietSuccess` log only their failures.
 */
export function installRequestLog(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const status = reply.statusCode;
    if (UNLOGGED.test(request.url) || (status < 400 && request.routeOptions.config.quietSuccess === true)) {
      done();
      return;
    }
    const line = {
      req: { id: request.id, method: request.method, path: request.url.split('?')[0] },
      res: { statusCode: status },
      responseTime: Math.round(reply.elapsedTime),
      ...requestContext(request.raw),
    };
    if (status >= 500) logger.error(line, 'request failed');
    else logger.info(line, 'request completed');
    done();
  });
}
