import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { newId } from '@keyward/auth';
import { grantModeOf, selects, type GrantState } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { ProblemError } from '@keyward/platform';
import { Roles } from '../auth/decorators';
import { ExecuteLifecycleCommand, type LifecycleOutcome } from '../dual-control/lifecycle.handler';
import { PendingApprovalInterceptor } from '../dual-control/pending-approval.interceptor';
import type { Caller } from '../platform/caller';
import { idParam, seqResponse } from '../platform/common.schema';
import { RequestCaller } from '../platform/request-caller';
import { openApi, ZodPipe } from '../platform/zod.pipe';
import { grantBody } from './grant.representation';
import { createGrantBody, createGrantResponse, grantListQuery, grantListResponse, grantResponse } from './grant.schema';

const notFound = (grantId: string) => new ProblemError(404, 'not-found', 'Not found', `grant ${grantId} not found`);

/**
 * Grants: which key-user or kmip-client may do what with which keys, under which conditions (docs/security.md,
 * "Grants"). Read from the tenant's log itself (the write side's state, caught up from the store),
 * so a list always shows the caller's own last change.
 */
@ApiTags('grants')
@ApiBearerAuth()
@Controller('v1/grants')
@UseInterceptors(PendingApprovalInterceptor)
export class GrantsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly executor: CommandExecutor,
  ) {}

  @Post()
  @Roles('tenant-admin')
  @ApiOperation({
    summary:
      'Grant a key-user or kmip-client operations on keys (by ids, alias prefix, labels, or owned: a kmip-client its own keys), optionally under conditions; ' +
      'under dual control (202 with the pending approval) when the tenant policy lists grant.create',
  })
  @ApiBody({ schema: openApi(createGrantBody, 'input') })
  @ApiCreatedResponse({ schema: openApi(createGrantResponse) })
  async create(@Body(new ZodPipe(createGrantBody)) body: z.output<typeof createGrantBody>, @RequestCaller() caller: Caller) {
    const tenantId = caller.principal.tenantId;
    const grantId = newId('grt');
    const { seq, log, pendingApproval } = await this.commands.execute<ExecuteLifecycleCommand, LifecycleOutcome>(
      new ExecuteLifecycleCommand(tenantId, { kind: 'grant.create', grantId, ...body }, caller),
    );
    if (pendingApproval) return { seq, pendingApproval };
    const grant = log.grants.get(grantId);
    if (grant === undefined) throw notFound(grantId);
    return { seq, grant: grantBody(grant) };
  }

  @Get()
  @Roles('tenant-admin', 'auditor', 'key-user')
  @ApiOperation({ summary: "The tenant's grants (a key-user: its own), oldest first, with the tenant's grant mode" })
  @ApiQuery({ name: 'query', required: false, schema: openApi(grantListQuery, 'input') })
  @ApiOkResponse({ schema: openApi(grantListResponse) })
  async list(@Query(new ZodPipe(grantListQuery, 'query')) q: z.output<typeof grantListQuery>, @RequestCaller() caller: Caller) {
    const log = await this.executor.current(caller.principal.tenantId);
    const own = caller.principal.role === 'key-user' ? caller.principal.principalId : undefined;
    const principalId = own ?? q.principalId;
    if (own !== undefined && q.principalId !== undefined && q.principalId !== own) return { mode: grantModeOf(log), items: [] };
    const key = q.keyId === undefined ? undefined : log.keys.get(q.keyId);
    const items: GrantState[] = [];
    for (const grant of log.grants.values()) {
      if (principalId !== undefined && grant.principalId !== principalId) continue;
      if (q.revoked === 'exclude' && grant.revokedAt !== null) continue;
      if (q.keyId !== undefined && (key === undefined || !selects(grant.keys, key, grant.principalId))) continue;
      items.push(grantBody(grant));
    }
    return { mode: grantModeOf(log), items };
  }

  @Get(':id')
  @Roles('tenant-admin', 'auditor', 'key-user')
  @ApiOperation({ summary: 'One grant (a key-user: only its own; any other answers 404)' })
  @ApiOkResponse({ schema: openApi(grantResponse) })
  async get(@Param('id', new ZodPipe(idParam, 'path')) grantId: string, @RequestCaller() caller: Caller) {
    const log = await this.executor.current(caller.principal.tenantId);
    const grant = log.grants.get(grantId);
    if (grant === undefined || (caller.principal.role === 'key-user' && grant.principalId !== caller.principal.principalId)) {
      throw notFound(grantId);
    }
    return grantBody(grant);
  }

  @Delete(':id')
  @HttpCode(200)
  @Roles('tenant-admin')
  @ApiOperation({
    summary:
      "Revoke a grant (a kmip-client's standing ownership grant grtown_… too): every key-api and kmip instance refuses its next use once it hears of the commit",
  })
  @ApiOkResponse({ schema: openApi(seqResponse) })
  async revoke(@Param('id', new ZodPipe(idParam, 'path')) grantId: string, @RequestCaller() caller: Caller) {
    const { seq } = await this.commands.execute<ExecuteLifecycleCommand, LifecycleOutcome>(
      new ExecuteLifecycleCommand(caller.principal.tenantId, { kind: 'grant.revoke', grantId }, caller),
    );
    return { seq };
  }
}
