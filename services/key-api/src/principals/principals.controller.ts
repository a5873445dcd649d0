import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { bindCertificateBody, certificateBindingResponse } from './certificate-binding.schema';
import { Roles } from '../auth/decorators';
import type { Caller } from '../platform/caller';
import { BindCertificateCommand, type CertificateBindingAnswer, type PendingBindingAnswer } from './bind-certificate.handler';
import { CreatePrincipalCommand, type IssuedPrincipal } from './create-principal.handler';
import { RevokePrincipalCommand } from './revoke-principal.handler';
import { parseEnrollmentPublicKey } from '../enrollment/enrollment-key';
import { ViewReader } from '../platform/view-reader';
import { PendingApprovalInterceptor } from '../dual-control/pending-approval.interceptor';
import { ApiPendingApproval } from '../dual-control/approval.schema';
import { RequestCaller } from '../platform/request-caller';
import { principalBody } from './principal.representation';
import { idParam, listQuery, seqResponse } from '../platform/common.schema';
import { createPrincipalBody, createPrincipalResponse, principalListResponse } from './principal.schema';
import { openApi, ZodPipe } from '../platform/zod.pipe';

@ApiTags('principals')
@ApiBearerAuth()
@Controller('v1/principals')
// Only the controllers whose commands can become approval requests: the data plane skips the interceptor.
@UseInterceptors(PendingApprovalInterceptor)
@ApiPendingApproval()
export class PrincipalsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly views: ViewReader,
  ) {}

  @Post()
  @Roles('tenant-admin', 'provider-admin')
  @ApiOperation({
    summary:
      'Create a principal with a role of this tenant (provider-admins: another provider-admin); answers its one-time enrollment token, ' +
      'which the new principal redeems itself at POST /v1/enroll for its API key',
  })
  @ApiBody({ schema: openApi(createPrincipalBody, 'input') })
  @ApiCreatedResponse({ schema: openApi(createPrincipalResponse) })
  create(
    @Body(new ZodPipe(createPrincipalBody)) body: z.output<typeof createPrincipalBody>,
    @RequestCaller() caller: Caller,
  ): Promise<IssuedPrincipal> {
    const key = body.enrollment ? parseEnrollmentPublicKey(body.enrollment.publicKey) : undefined;
    return this.commands.execute(new CreatePrincipalCommand(caller.principal.tenantId, body.name, body.role, caller, key));
  }

  @Get()
  @Roles('tenant-admin', 'auditor')
  @ApiOkResponse({ schema: openApi(principalListResponse) })
  async list(@Query(new ZodPipe(listQuery, 'query')) q: z.output<typeof listQuery>, @RequestCaller() caller: Caller) {
    const tenantId = caller.principal.tenantId;
    await this.views.waitFor(tenantId, q.minSeq);
    const page = await this.views.principals(tenantId, q.limit, q.cursor);
    return { items: page.items.map(principalBody), nextCursor: page.nextCursor };
  }

  @Delete(':id')
  @HttpCode(200)
  @Roles('tenant-admin')
  @ApiOperation({ summary: 'Revoke a principal: its API keys stop working at once' })
  @ApiOkResponse({ schema: openApi(seqResponse) })
  revoke(@Param('id', new ZodPipe(idParam, 'path')) id: string, @RequestCaller() caller: Caller): Promise<{ seq: number }> {
    return this.commands.execute(new RevokePrincipalCommand(caller.principal.tenantId, id, caller));
  }

  @Put(':id/certificate')
  @Roles('tenant-admin')
  @ApiOperation({
    summary:
      "Bind a principal to a client certificate: its API keys then work only over mutual TLS presenting that certificate (an administrator's binding is principal.manage-admin under dual control: 202 with the pending approval)",
  })
  @ApiBody({ schema: openApi(bindCertificateBody, 'input') })
  @ApiOkResponse({ schema: openApi(certificateBindingResponse) })
  bindCertificate(
    @Param('id', new ZodPipe(idParam, 'path')) id: string,
    @Body(new ZodPipe(bindCertificateBody)) body: z.output<typeof bindCertificateBody>,
    @RequestCaller() caller: Caller,
  ): Promise<CertificateBindingAnswer | PendingBindingAnswer> {
    return this.commands.execute(new BindCertificateCommand(id, body, caller));
  }

  @Delete(':id/certificate')
  @HttpCode(200)
  @Roles('tenant-admin')
  @ApiOperation({
    summary:
      "Remove a principal's client certificate binding: its API keys work without mutual TLS again (an administrator's: under dual control)",
  })
  @ApiOkResponse({ schema: openApi(certificateBindingResponse) })
  unbindCertificate(
    @Param('id', new ZodPipe(idParam, 'path')) id: string,
    @RequestCaller() caller: Caller,
  ): Promise<CertificateBindingAnswer | PendingBindingAnswer> {
    return this.commands.execute(new BindCertificateCommand(id, null, caller));
  }
}
