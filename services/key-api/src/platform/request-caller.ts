import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedPrincipal } from '@keyward/auth';
import type { Caller } from './caller';

/** `@RequestCaller()`: the route's Caller (its authenticated principal and request id). */
export const RequestCaller = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest & { user?: AuthenticatedPrincipal }>();
  if (!request.user) throw new Error('route has no authenticated principal');
  return { principal: request.user, requestId: request.id };
});
