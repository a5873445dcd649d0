import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedPrincipal } from '@keyward/auth';
import type { Role } from '@keyward/domain';

export const ROLES = 'keyward:roles';

/** The roles that may call a route; every other role gets 403. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES, roles);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthenticatedPrincipal => {
  const request = ctx.switchToHttp().getRequest<{ user?: AuthenticatedPrincipal }>();
  if (!request.user) throw new Error('route has no authenticated principal');
  return request.user;
});
