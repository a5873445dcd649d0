import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { activeWithRole, grantModeOf, policyQuorum } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { ProblemError } from '@keyward/platform';
import { Roles } from '../auth/decorators';
import { ExecuteLifecycleCommand, type LifecycleOutcome } from '../dual-control/lifecycle.handler';
import type { Caller } from '../platform/caller';
import { OnboardTenantCommand, type OnboardedTenant } from './onboard-tenant.handler';
import { parseEnrollmentPublicKey } from '../enrollment/enrollment-key';
import { ViewReader } from '../platform/view-reader';
import { PendingApprovalInterceptor } from '../dual-control/pending-approval.interceptor';
import { ApiPendingApproval } from '../dual-control/approval.schema';
import { RequestCaller } from '../platform/request-caller';
import { tenantBody } from './tenant.representation';
import { emptyBody, idParam, listQuery, readQuery } from '../platform/common.schema';
import {
  offboardBody,
  onboardResponse,
  onboardTenantBody,
  suspendTenantBody,
  tenantCommandResponse,
  tenantListResponse,
  tenantPolicyBody,
  tenantPolicyResponse,
  tenantResponse,
  ownTenantResponse,
} from './tenant.schema';
import { openApi, ZodPipe } from '../platform/zod.pipe';

const notFound = (id: string) => new ProblemError(404, 'not-found', 'Not found', `tenant ${id} not found`);

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1')
// Only the controllers whose commands can become approval requests: the data plane skips the interceptor.
@UseInterceptors(PendingApprovalInterceptor)
@ApiPendingApproval()
export class TenantsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly views: ViewReader,
    private readonly executor: CommandExecutor,
  ) {}

  @Post('tenants')
  @Roles('provider-admin')
  @ApiOperation({
    summary:
      "Onboard a tenant; answers its first tenant-admin's one-time enrollment token (never its API key: the admin redeems the token itself)",
  })
  @ApiBody({ schema: openApi(onboardTenantBody, 'input') })
  @ApiCreatedResponse({ schema: openApi(onboardResponse) })
  onboard(
    @Body(new ZodPipe(onboardTenantBody)) body: z.output<typeof onboardTenantBody>,
    @RequestCaller() caller: Caller,
  ): Promise<OnboardedTenant> {
    const key = body.adminEnrollment ? parseEnrollmentPublicKey(body.adminEnrollment.publicKey) : undefined;
    return this.commands.execute(new OnboardTenantCommand(body.name, body.adminName, caller, key, body.grants));
  }

  @Get('tenants')
  @Roles('provider-admin')
  @ApiOkResponse({ schema: openApi(tenantListResponse) })
  async list(@Query(new ZodPipe(listQuery, 'query')) q: z.output<typeof listQuery>) {
    const page = await this.views.tenants(q.limit, q.cursor);
    return { items: page.items.map(tenantBody), nextCursor: page.nextCursor };
  }

  @Get('tenants/:id')
  @Roles('provider-admin')
  @ApiOkResponse({ schema: openApi(tenantResponse) })
  async get(@Param('id', new ZodPipe(idParam, 'path')) id: string, @Query(new ZodPipe(readQuery, 'query')) q: z.output<typeof readQuery>) {
    await this.views.waitFor(id, q.minSeq);
    const view = await this.views.tenant(id);
    if (!view) throw notFound(id);
    return tenantBody(view);
  }

  @Get('tenant')
  @Roles('tenant-admin', 'auditor')
  @ApiOperation({ summary: "The caller's own tenant: status and key counts by state" })
  @ApiOkResponse({ schema: openApi(ownTenantResponse) })
  async own(@Query(new ZodPipe(readQuery, 'query')) q: z.output<typeof readQuery>, @RequestCaller() caller: Caller) {
    const summary = await this.get(caller.principal.tenantId, q);
    const log = await this.executor.current(caller.principal.tenantId);
    const admins = activeWithRole(log, 'tenant-admin');
    const quorum = policyQuorum(log);
    const warning =
      quorum < 2 ? 'dual control is off: one administrator alone can destroy keys and change policy; add a second tenant-admin' : undefined;
    return { ...summary, dualControl: { quorum, activeAdmins: admins, ...(warning ? { warning } : {}) } };
  }

  @Post('tenants/:id/suspend')
  @HttpCode(200)
  @Roles('provider-admin')
  @ApiBody({ schema: openApi(suspendTenantBody, 'input') })
  @ApiOkResponse({ schema: openApi(tenantCommandResponse) })
  suspend(
    @Param('id', new ZodPipe(idParam, 'path')) id: string,
    @Body(new ZodPipe(suspendTenantBody)) body: z.output<typeof suspendTenantBody>,
    @RequestCaller() caller: Caller,
  ) {
    return this.run(id, { kind: 'tenant.suspend', tenantId: id, ...(body.reason ? { reason: body.reason } : {}) }, caller);
  }

  @Post('tenants/:id/resume')
  @HttpCode(200)
  @Roles('provider-admin')
  @ApiOkResponse({ schema: openApi(tenantCommandResponse) })
  resume(@Param('id', new ZodPipe(idParam, 'path')) id: string, @Body(new ZodPipe(emptyBody)) _: unknown, @RequestCaller() caller: Caller) {
    return this.run(id, { kind: 'tenant.resume', tenantId: id }, caller);
  }

  @Post('tenants/:id/offboard')
  @HttpCode(200)
  @Roles('provider-admin')
  @ApiOperation({ summary: 'Offboard a tenant for good: its KEK and all key material are destroyed (crypto-shredding)' })
  @ApiBody({ schema: openApi(offboardBody, 'input') })
  @ApiOkResponse({ schema: openApi(tenantCommandResponse) })
  offboard(
    @Param('id', new ZodPipe(idParam, 'path')) id: string,
    @Body(new ZodPipe(offboardBody)) body: z.output<typeof offboardBody>,
    @RequestCaller() caller: Caller,
  ) {
    if (body.confirm !== id) {
      throw new ProblemError(
        422,
        'confirmation-mismatch',
        'Confirmation does not match',
        'send {"confirm": "<the tenant id>"} to offboard',
      );
    }
    return this.run(id, { kind: 'tenant.offboard', tenantId: id }, caller);
  }

  @Get('tenant/policy')
  @Roles('tenant-admin', 'auditor')
  @ApiOperation({ summary: "The caller's tenant crypto policy" })
  @ApiOkResponse({ schema: openApi(tenantPolicyResponse) })
  async policy(@RequestCaller() caller: Caller) {
    const log = await this.executor.current(caller.principal.tenantId);
    if (!log.tenant) throw notFound(caller.principal.tenantId);
    return { allowLegacyEncryption: false, allowKeyReuse: false, ...log.tenant.policy, grants: grantModeOf(log) };
  }

  @Put('tenant/policy')
  @Roles('tenant-admin')
  @ApiOperation({ summary: "Change the caller's tenant crypto policy" })
  @ApiBody({ schema: openApi(tenantPolicyBody, 'input') })
  @ApiOkResponse({ schema: openApi(tenantPolicyResponse.extend({ seq: z.number().int() })) })
  async setPolicy(@Body(new ZodPipe(tenantPolicyBody)) body: z.output<typeof tenantPolicyBody>, @RequestCaller() caller: Caller) {
    const tenantId = caller.principal.tenantId;
    const { seq, log, pendingApproval } = await this.commands.execute<ExecuteLifecycleCommand, LifecycleOutcome>(
      new ExecuteLifecycleCommand(
        tenantId,
        {
          kind: 'tenant.set-policy',
          tenantId,
          policy: {
            ...(body.allowCompromisedDecrypt === undefined ? {} : { allowCompromisedDecrypt: body.allowCompromisedDecrypt }),
            ...(body.allowLegacyEncryption === undefined ? {} : { allowLegacyEncryption: body.allowLegacyEncryption }),
            ...(body.allowKeyReuse === undefined ? {} : { allowKeyReuse: body.allowKeyReuse }),
            ...(body.dualControl === undefined ? {} : { dualControl: body.dualControl }),
            ...(body.kmipDestroy === undefined ? {} : { kmipDestroy: body.kmipDestroy }),
            ...(body.grants === undefined ? {} : { grants: body.grants }),
          },
        },
        caller,
      ),
    );
    if (pendingApproval) return { seq, pendingApproval };
    if (!log.tenant) throw notFound(tenantId);
    return { seq, allowLegacyEncryption: false, allowKeyReuse: false, ...log.tenant.policy, grants: grantModeOf(log) };
  }

  private async run(tenantId: string, command: ExecuteLifecycleCommand['command'], caller: Caller) {
    const { seq, log, pendingApproval } = await this.commands.execute<ExecuteLifecycleCommand, LifecycleOutcome>(
      new ExecuteLifecycleCommand(tenantId, command, caller),
    );
    if (pendingApproval) return { seq, tenantId, pendingApproval };
    if (!log.tenant) throw notFound(tenantId);
    return { seq, tenantId, status: log.tenant.status };
  }
}
