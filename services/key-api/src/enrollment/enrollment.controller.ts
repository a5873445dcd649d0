import { Body, Controller, HttpCode, Param, Post, Query, Req, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { CommandExecutor } from '@keyward/event-log';
import { ProblemError, Public } from '@keyward/platform';
import { Roles } from '../auth/decorators';
import type { Caller } from '../platform/caller';
import { PendingApprovalInterceptor } from '../dual-control/pending-approval.interceptor';
import { RequestCaller } from '../platform/request-caller';
import { idParam } from '../platform/common.schema';
import { openApi, ZodPipe } from '../platform/zod.pipe';
import { parseEnrollmentPublicKey } from './enrollment-key';
import { redeemBody, redeemResponse, reissueBody, reissueQuery, enrollmentResponse } from './enrollment.schema';
import { EnrollmentService, type EnrollmentIssue, type Redeemed } from './enrollment.service';

@ApiTags('enrollment')
@Controller('v1')
export class EnrollmentController {
  constructor(
    private readonly enrollments: EnrollmentService,
    private readonly executor: CommandExecutor,
  ) {}

  @Post('enroll')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: 'A new principal redeems its one-time enrollment token for its own API key (once; no other credential needed)',
    description:
      'Wrong, expired and revoked tokens all answer 401 invalid-enrollment-token; a token redeemed before answers 409 enrollment-token-used. ' +
      'The redemption is recorded in the tenant log (principal.enrolled.v1, with the client address). Rate-limited per client address.',
  })
  @ApiBody({ schema: openApi(redeemBody, 'input') })
  @ApiOkResponse({ schema: openApi(redeemResponse) })
  redeem(@Body(new ZodPipe(redeemBody)) body: z.output<typeof redeemBody>, @Req() request: FastifyRequest): Promise<Redeemed> {
    const agent = request.headers['user-agent'];
    return this.enrollments.redeem(body.token, {
      address: request.ip,
      requestId: request.id,
      ...(typeof agent === 'string' && agent.length > 0 ? { userAgent: agent } : {}),
    });
  }

  @Post('principals/:id/enrollment')
  @HttpCode(201)
  @ApiBearerAuth()
  @Roles('tenant-admin', 'provider-admin')
  @UseInterceptors(PendingApprovalInterceptor)
  @ApiOperation({
    summary: 'A new enrollment token for a principal that never enrolled (the old token stops working)',
    description:
      'For an administrator this is dual-controlled like creating one: the answer is then 202 with the pending approval, and the token ' +
      'works once the approval executes. Provider-admins may do this for the tenant-admins of a tenant (?tenantId=).',
  })
  @ApiBody({ schema: openApi(reissueBody, 'input') })
  @ApiOkResponse({ schema: openApi(enrollmentResponse) })
  async reissue(
    @Param('id', new ZodPipe(idParam, 'path')) id: string,
    @Query(new ZodPipe(reissueQuery, 'query')) q: z.output<typeof reissueQuery>,
    @Body(new ZodPipe(reissueBody)) body: z.output<typeof reissueBody>,
    @RequestCaller() caller: Caller,
  ): Promise<EnrollmentIssue & { principalId: string }> {
    const logId = q.tenantId !== undefined && caller.principal.role === 'provider-admin' ? q.tenantId : caller.principal.tenantId;
    if (logId !== caller.principal.tenantId) {
      const target = (await this.executor.current(logId)).principals.get(id);
      if (target?.role !== 'tenant-admin') {
        throw new ProblemError(404, 'not-found', 'Not found', `no tenant-admin ${id} in tenant ${logId}`);
      }
    }
    const key = body.enrollment ? parseEnrollmentPublicKey(body.enrollment.publicKey) : undefined;
    return { principalId: id, ...(await this.enrollments.issue(logId, id, caller, key)) };
  }
}
