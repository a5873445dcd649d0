import { Body, Controller, Delete, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCookieAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ApiKeyAuthenticator, csrfTokenOf, SessionStore, type SessionDocument } from '@keyward/auth';
import { ProblemError } from '@keyward/platform';
import { Roles } from '../auth/decorators';
import { clearedSessionCookie, SESSION_COOKIE, SESSION_LIFETIME_MS, sessionCookie, sessionCookieOf } from '../auth/session-cookie';
import type { Caller } from '../platform/caller';
import { RequestCaller } from '../platform/request-caller';
import { openApi, ZodPipe } from '../platform/zod.pipe';
import { openSessionBody, sessionResponse } from './session.schema';

type SessionAnswer = z.output<typeof sessionResponse>;

/** Every role that may call REST routes may hold a console session (kmip-client may not: REST refuses it anyway). */
const SESSION_ROLES = ['provider-admin', 'tenant-admin', 'key-user', 'auditor'] as const;

/**
 * Console sign-in: an API key presented once as a bearer token becomes a short-lived session
 * cookie. The cookie then authenticates the same routes under the same rules
 * (auth/console-session.strategy.ts); these routes only open, describe and close it.
 */
@ApiTags('session')
@Controller('v1/session')
export class SessionController {
  constructor(
    private readonly sessions: SessionStore,
    private readonly authenticator: ApiKeyAuthenticator,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiBearerAuth()
  @Roles(...SESSION_ROLES)
  @ApiOperation({
    summary: 'Sign in to the console: exchange the API key (Authorization: Bearer kw_…) for a session cookie',
    description:
      `Sets ${SESSION_COOKIE} (httpOnly, Secure, SameSite=Strict, Path=/, ${SESSION_LIFETIME_MS / 60_000} minutes). ` +
      'Only an API key opens a session (403 session-needs-api-key for a JWT or another session). The browser never keeps the API key.',
  })
  @ApiBody({ schema: openApi(openSessionBody, 'input'), required: false })
  @ApiCreatedResponse({
    schema: openApi(sessionResponse),
    headers: { 'set-cookie': { description: 'The session cookie', schema: { type: 'string' } } },
  })
  async open(
    @Body(new ZodPipe(openSessionBody)) _body: z.output<typeof openSessionBody>,
    @RequestCaller() caller: Caller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionAnswer> {
    const { principal } = caller;
    // Only the credential itself opens a session: a session cannot extend itself, and a JWT names no credential to re-check.
    if (principal.sessionId !== undefined || !(await this.authenticator.reauthenticate(principal.credentialId)))
      throw new ProblemError(
        403,
        'session-needs-api-key',
        'Forbidden',
        'a console session is opened with an API key (Authorization: Bearer kw_…)',
      );
    const { token, session } = await this.sessions.open(principal, SESSION_LIFETIME_MS);
    void reply.header('set-cookie', sessionCookie(token, SESSION_LIFETIME_MS)).header('cache-control', 'no-store');
    return answer(session, token);
  }

  @Get()
  @ApiCookieAuth(SESSION_COOKIE)
  @Roles(...SESSION_ROLES)
  @ApiOperation({
    summary: 'The current console session: who is signed in, until when, and its CSRF token',
    description: 'Answers 404 no-session when the request was not made with a session cookie.',
  })
  @ApiOkResponse({ schema: openApi(sessionResponse) })
  async current(
    @RequestCaller() caller: Caller,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionAnswer> {
    const token = sessionCookieOf(request);
    const session = token === undefined || caller.principal.sessionId === undefined ? undefined : await this.sessions.find(token);
    if (!session || token === undefined) throw noSession();
    void reply.header('cache-control', 'no-store');
    return answer(session, token);
  }

  @Delete()
  @HttpCode(204)
  @ApiCookieAuth(SESSION_COOKIE)
  @Roles(...SESSION_ROLES)
  @ApiOperation({
    summary: 'Sign out: the session ends now on every key-api instance, and the browser drops the cookie',
    description: 'Needs the x-csrf-token header like every change made with the cookie. Answers 404 no-session without a session cookie.',
  })
  @ApiNoContentResponse({ description: 'Signed out' })
  async close(@RequestCaller() caller: Caller, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    const { sessionId } = caller.principal;
    if (sessionId === undefined) throw noSession();
    await this.sessions.close(sessionId);
    void reply.header('set-cookie', clearedSessionCookie());
  }
}

function answer(session: SessionDocument, token: string): SessionAnswer {
  return {
    principalId: session.principalId,
    tenantId: session.tenantId,
    role: session.role,
    expiresAt: session.expiresAt.toISOString(),
    csrfToken: csrfTokenOf(token),
  };
}

function noSession(): ProblemError {
  return new ProblemError(404, 'no-session', 'Not found', 'this request was not made with a console session cookie');
}
