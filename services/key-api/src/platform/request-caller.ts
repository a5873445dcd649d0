import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedPrincipal } from '@keyward/auth';
import type { Origin } from './caller';

/** The authenticated principal and request id, as the origin of a command. */
export const RequestOrigin = createParamDecorator((_: unknown, ctx: ExecutionContext): Origin => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest & { user?: AuthenticatedPrincipal }>();
  if (!request.user) throw new Error('route has no authenticated principal');
  return { principal: request.user, requestId: request.id };
});
