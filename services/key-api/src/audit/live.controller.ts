import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ApiKeyAuthenticator, SessionStore } from '@keyward/auth';
import { ProblemError } from '@keyward/platform';
import { Roles } from '../auth/decorators';
import { SESSION_COOKIE } from '../auth/session-cookie';
import type { Caller } from '../platform/caller';
import { RequestCaller } from '../platform/request-caller';
import { idParam } from '../platform/common.schema';
import { openApi, ZodPipe } from '../platform/zod.pipe';
import { auditedTenant } from './audit-scope';
import { LiveCommits, type CommitNotice } from './live-commits';

/** How often an open stream sends a comment line and re-checks that its caller may still listen. */
const HEARTBEAT_MS = 15_000;

export const liveQuery = z.strictObject({
  tenantId: idParam.optional().describe('Provider-admins: the tenant to follow (default: the provider log); other roles: their own only'),
});

/**
 * Live commits of a tenant as server-sent events, fed by key-api's own stream consumer: each names
 * the commit's seq, time, event types and key ids, so a client re-reads what changed through the
 * ordinary routes (with minSeq). The caller's credential (and console session) is re-checked every
 * heartbeat: a revoked principal or a signed-out session ends the stream.
 */
@ApiTags('audit')
@Controller('v1/audit')
export class LiveController {
  constructor(
    private readonly live: LiveCommits,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly sessions: SessionStore,
  ) {}

  @Get('live')
  @ApiBearerAuth()
  @ApiCookieAuth(SESSION_COOKIE)
  @Roles('auditor', 'tenant-admin', 'provider-admin')
  @ApiOperation({
    summary: "Follow a tenant's new commits as they happen (text/event-stream)",
    description:
      'Each message is `event: commit` with data {tenantId, seq, at, types, keyIds}; a comment line every 15 s keeps the stream open. ' +
      'The stream ends when the credential is revoked or the console session ends. 429 live-streams-busy when too many streams are open.',
  })
  @ApiQuery({ name: 'query', required: false, schema: openApi(liveQuery, 'input') })
  @ApiProduces('text/event-stream')
  @ApiResponse({
    status: 200,
    description: 'The stream of commit notices',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  follow(
    @Query(new ZodPipe(liveQuery, 'query')) q: z.output<typeof liveQuery>,
    @RequestCaller() caller: Caller,
    @Res() reply: FastifyReply,
  ): void {
    const tenantId = auditedTenant(caller.principal, q.tenantId);
    const raw = reply.raw;
    const unsubscribe = this.live.subscribe(tenantId, (notice: CommitNotice) => {
      raw.write(`event: commit\ndata: ${JSON.stringify(notice)}\n\n`);
    });
    if (!unsubscribe) {
      throw new ProblemError(
        429,
        'live-streams-busy',
        'Too many requests',
        'too many live streams are open; retry later',
        {},
        { 'retry-after': '30' },
      );
    }
    void reply.hijack();
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    raw.write(': following\n\n');
    const end = (): void => {
      clearInterval(timer);
      unsubscribe();
      if (!raw.writableEnded) raw.end();
    };
    const timer = setInterval(() => {
      void this.stillAllowed(caller).then(
        (allowed) => (allowed ? raw.write(': heartbeat\n\n') : end()),
        () => end(),
      );
    }, HEARTBEAT_MS);
    timer.unref();
    raw.on('close', end);
  }

  private async stillAllowed(caller: Caller): Promise<boolean> {
    const { principal } = caller;
    if (principal.sessionId !== undefined && !(await this.sessions.isOpen(principal.sessionId))) return false;
    // A JWT names no stored credential: it stays valid until the stream's end (its expiry is checked when it is presented).
    if (principal.credentialId === 'oidc') return true;
    return (await this.authenticator.reauthenticate(principal.credentialId)) !== undefined;
  }
}
