import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '@keyward/domain';
import { PUBLIC_ROUTE } from '@keyward/platform';
import { ROLES, SEALED_OK } from './decorators';
import { RequestAuthenticator } from './request-authenticator';

/**
 * Every Nest route is authenticated unless marked @Public, and role-checked against @Roles. A route
 * without @Roles is refused to everyone: forgetting it fails closed.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, targets)) return true;
    const http = context.switchToHttp();
    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets) ?? [];
    const sealedOk = this.reflector.getAllAndOverride<boolean | undefined>(SEALED_OK, targets) === true;
    await this.authenticator.authenticate(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), allowed, sealedOk);
    return true;
  }
}
