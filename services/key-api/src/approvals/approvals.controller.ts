import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import type { ApprovalState } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { businessNow, ProblemError } from '@keyward/platform';
import { Roles } from '../auth/decorators';
import { DecideApprovalCommand, type ApprovalDecided } from './decide-approval.handler';
import type { Caller } from '../platform/caller';
import { RequestCaller } from '../platform/request-caller';
import { approvalBody } from '../dual-control/approval.representation';
import {
  approvalDecisionResponse,
  approvalListResponse,
  approvalResponse,
  approvalsQuery,
  rejectBody,
  tenantScopeQuery,
} from './approval.schema';
import { idParam } from '../platform/common.schema';
import { openApi, ZodPipe } from '../platform/zod.pipe';

/** Tenant roles act on their own tenant; provider-admins name the tenant (offboarding requests live in its log). */
function scope(caller: Caller, tenantId: string | undefined): string {
  if (caller.principal.role !== 'provider-admin') return caller.principal.tenantId;
  if (tenantId === undefined) throw new ProblemError(400, 'validation', 'Invalid request', 'provider-admins must say ?tenantId=');
  return tenantId;
}

@ApiTags('approvals')
@ApiBearerAuth()
@Controller('v1/approvals')
export class ApprovalsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly executor: CommandExecutor,
  ) {}

  @Get()
  @Roles('tenant-admin', 'auditor', 'provider-admin')
  @ApiOperation({ summary: 'Approval requests of the tenant, newest first (read from the log itself)' })
  @ApiOkResponse({ schema: openApi(approvalListResponse) })
  async list(@Query(new ZodPipe(approvalsQuery, 'query')) q: z.output<typeof approvalsQuery>, @RequestCaller() caller: Caller) {
    const log = await this.executor.current(scope(caller, q.tenantId));
    const now = businessNow();
    const items = [...log.approvals.values()]
      .reverse()
      .map((a: ApprovalState) => approvalBody(a, now))
      .filter((a) => q.status === undefined || a.status === q.status);
    return { items };
  }

  @Get(':id')
  @Roles('tenant-admin', 'auditor', 'provider-admin')
  @ApiOkResponse({ schema: openApi(approvalResponse) })
  async get(
    @Param('id', new ZodPipe(idParam, 'path')) id: string,
    @Query(new ZodPipe(tenantScopeQuery, 'query')) q: z.output<typeof tenantScopeQuery>,
    @RequestCaller() caller: Caller,
  ) {
    const approval = (await this.executor.current(scope(caller, q.tenantId))).approvals.get(id);
    if (!approval) throw new ProblemError(404, 'not-found', 'Not found', `approval ${id} not found`);
    return approvalBody(approval, businessNow());
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Roles('tenant-admin', 'provider-admin')
  @ApiOperation({ summary: 'Approve a request (not your own); at quorum its command executes, exactly once' })
  @ApiOkResponse({ schema: openApi(approvalDecisionResponse) })
  approve(
    @Param('id', new ZodPipe(idParam, 'path')) id: string,
    @Query(new ZodPipe(tenantScopeQuery, 'query')) q: z.output<typeof tenantScopeQuery>,
    @RequestCaller() caller: Caller,
  ) {
    return this.decide(scope(caller, q.tenantId), id, 'approve', undefined, caller);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @Roles('tenant-admin', 'provider-admin')
  @ApiOperation({ summary: 'Reject (or, as the requester, withdraw) a pending request' })
  @ApiBody({ schema: openApi(rejectBody, 'input') })
  @ApiOkResponse({ schema: openApi(approvalDecisionResponse) })
  reject(
    @Param('id', new ZodPipe(idParam, 'path')) id: string,
    @Query(new ZodPipe(tenantScopeQuery, 'query')) q: z.output<typeof tenantScopeQuery>,
    @Body(new ZodPipe(rejectBody)) body: z.output<typeof rejectBody>,
    @RequestCaller() caller: Caller,
  ) {
    return this.decide(scope(caller, q.tenantId), id, 'reject', body.reason, caller);
  }

  private async decide(tenantId: string, id: string, decision: 'approve' | 'reject', reason: string | undefined, caller: Caller) {
    const done = await this.commands.execute<DecideApprovalCommand, ApprovalDecided>(
      new DecideApprovalCommand(tenantId, id, decision, reason, caller),
    );
    return { seq: done.seq, approval: approvalBody(done.approval, businessNow()), ...(done.issued ? { issued: done.issued } : {}) };
  }
}
