import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE } from './problem';
import { toProblem } from './to-problem';

/** Every error leaves as an RFC 9457 problem document; stack traces only reach the log. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('problem');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    sendProblem(ctx.getRequest<FastifyRequest>(), ctx.getResponse<FastifyReply>(), exception, this.logger);
  }
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, exception: unknown, logger: Logger): void {
  const { problem, unexpected } = toProblem(exception);
  if (unexpected) {
    logger.error(
      {
        reqId: request.id,
        err: exception instanceof Error ? { type: exception.name, message: exception.message, stack: exception.stack } : String(exception),
      },
      'unexpected error',
    );
  }
  if (reply.sent) return;
  for (const [name, value] of Object.entries(problem.headers)) void reply.header(name, value);
  void reply
    .status(problem.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .header('cache-control', 'no-store')
    .send(JSON.stringify(problem.toDocument(request.url.split('?')[0])));
}
