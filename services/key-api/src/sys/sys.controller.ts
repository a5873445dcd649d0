import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { parseRootKey } from '@keyward/crypto';
import { Public, ProblemError } from '@keyward/platform';
import { ApiKeyAuthenticator, CredentialStore } from '@keyward/auth';
import { Roles, SealedOk } from '../auth/decorators';
import type { Caller } from '../platform/caller';
import { RootKeyService, type SealStatus, type ShareSubmissionStatus } from '@keyward/keys';
import { RequestCaller } from '../platform/request-caller';
import { sealStatusResponse, unsealBody, unsealShareBody, unsealShareResponse } from './sys.schema';
import { openApi, ZodPipe } from '../platform/zod.pipe';

@ApiTags('sys')
@Controller('v1/sys')
export class SysController {
  constructor(
    private readonly root: RootKeyService,
    private readonly credentials: CredentialStore,
    private readonly authenticator: ApiKeyAuthenticator,
  ) {}

  @Get('seal-status')
  @Public()
  @ApiOperation({ summary: 'Whether the key manager is sealed (no root key in memory)' })
  @ApiOkResponse({ schema: openApi(sealStatusResponse) })
  sealStatus(): SealStatus {
    return this.root.status();
  }

  @Post('unseal')
  @HttpCode(200)
  @ApiBearerAuth()
  @Roles('provider-admin')
  @ApiOperation({ summary: 'Unseal with the root key (checked against the keystore before use)' })
  @ApiBody({ schema: openApi(unsealBody, 'input') })
  @ApiOkResponse({ schema: openApi(sealStatusResponse) })
  @SealedOk()
  async unseal(@Body(new ZodPipe(unsealBody)) body: z.output<typeof unsealBody>, @RequestCaller() caller: Caller): Promise<SealStatus> {
    const key = parseRootKey(body.rootKey);
    if (!key) throw new ProblemError(400, 'validation', 'Invalid request', 'rootKey must be 32 bytes of base64');
    const status = await this.root.unseal(key);
    await this.bindUnsealer(caller);
    return status;
  }

  @Post('unseal/shares')
  @HttpCode(200)
  @ApiBearerAuth()
  @Roles('provider-admin')
  @ApiOperation({
    summary: 'Submit one Shamir share of the root key (custodians, one at a time)',
    description:
      'Shares are held in memory only, for at most 10 minutes from the first one. When the threshold is reached they are combined, ' +
      'zeroed, and the root key is checked against the keystore before use. A share submitted twice counts once; a mistyped share ' +
      'answers 400 invalid-share, a share of another root key 422 root-key-mismatch, of another set 422 share-set-mismatch.',
  })
  @ApiBody({ schema: openApi(unsealShareBody, 'input') })
  @ApiOkResponse({ schema: openApi(unsealShareResponse) })
  @SealedOk()
  async submitShare(
    @Body(new ZodPipe(unsealShareBody)) body: z.output<typeof unsealShareBody>,
    @RequestCaller() caller: Caller,
  ): Promise<ShareSubmissionStatus> {
    const status = await this.root.submitShare(body.share);
    if (!status.sealed) await this.bindUnsealer(caller);
    return status;
  }

  @Delete('unseal/shares')
  @ApiBearerAuth()
  @Roles('provider-admin')
  @ApiOperation({ summary: 'Discard the shares submitted so far (start unsealing over)' })
  @ApiOkResponse({ schema: openApi(sealStatusResponse) })
  @SealedOk()
  resetShares(): SealStatus {
    return this.root.resetShares();
  }

  /**
   * The credential that completed an unseal, if it had no verified MAC (first start while sealed),
   * gets one now: its holder has just proven the root key, which is all a MAC needs.
   */
  private async bindUnsealer(caller: Caller): Promise<void> {
    if (!caller.principal.credentialUnverified) return;
    await this.credentials.addMac(caller.principal.credentialId, await this.root.requireCredentialMacKey());
    this.authenticator.forgetPrincipal(caller.principal.principalId);
  }
}
