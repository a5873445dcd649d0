import { Body, Controller, HttpCode, Param, Post, Query, Req, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { CommandBus } from '@nestjs/cqrs';
import { Public } from '@keyward/platform';
import { Roles } from '../auth/decorators';
import type { Caller } from '../platform/caller';
import { PendingApprovalInterceptor } from '../dual-control/pending-approval.interceptor';
import { ApiPendingApproval } from '../dual-control/approval.schema';
import { RequestCaller } from '../platform/request-caller';
import { idParam } from '../platform/common.schema';
import { openApi, ZodPipe } from '../platform/zod.pipe';
import { redeemBody, redeemResponse, reissueBody, reissuePendingResponse, reissueQuery, reissueResponse } from './enrollment.schema';
import type { Redeemed } from './enrollment.service';
import { RedeemEnrollmentCommand } from './redeem-enrollment.handler';
import { ReissueEnrollmentCommand, type ReissuedEnrollment } from './reissue-enrollment.handler';

@ApiTags('enrollment')
@Controller('v1')
export class EnrollmentController {
  constructor(private readonly commands: CommandBus) {}

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
    return this.commands.execute(
      new RedeemEnrollmentCommand(body.token, {
        address: request.ip,
        requestId: request.id,
        ...(typeof agent === 'string' && agent.length > 0 ? { userAgent: agent } : {}),
      }),
    );
  }

  @Post('principals/:id/enrollment')
  @HttpCode(201)
  @ApiBearerAuth()
  @Roles('tenant-admin', 'provider-admin')
  @UseInterceptors(PendingApprovalInterceptor)
  @ApiPendingApproval(reissuePendingResponse)
  @ApiOperation({
    summary: 'A new enrollment token for a principal that never enrolled (the old token stops working)',
    description:
      'For an administrator this is dual-controlled like creating one: the answer is then 202 with the pending approval, and the token ' +
      'works once the approval executes. Provider-admins may do this for the tenant-admins of a tenant (?tenantId=).',
  })
  @ApiBody({ schema: openApi(reissueBody, 'input') })
  @ApiCreatedResponse({ schema: openApi(reissueResponse) })
  reissue(
    @Param('id', new ZodPipe(idParam, 'path')) id: string,
    @Query(new ZodPipe(reissueQuery, 'query')) q: z.output<typeof reissueQuery>,
    @Body(new ZodPipe(reissueBody)) body: z.output<typeof reissueBody>,
    @RequestCaller() caller: Caller,
  ): Promise<ReissuedEnrollment> {
    return this.commands.execute(new ReissueEnrollmentCommand(id, q.tenantId, caller, body.enrollment?.publicKey));
  }
}
