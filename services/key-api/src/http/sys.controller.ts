import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { parseRootKey } from '@keyward/crypto';
import { Public, ProblemError } from '@keyward/platform';
import { Roles } from '../auth/decorators';
import { RootKeyService, type SealStatus, type ShareSubmissionStatus } from '../crypto/root-key.service';
import { sealStatusResponse, unsealBody, unsealShareBody, unsealShareResponse } from './schemas/crypto.schema';
import { openApi, ZodPipe } from './zod.pipe';

@ApiTags('sys')
@Controller('v1/sys')
export class SysController {
  constructor(private readonly root: RootKeyService) {}

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
  unseal(@Body(new ZodPipe(unsealBody)) body: z.output<typeof unsealBody>): Promise<SealStatus> {
    const key = parseRootKey(body.rootKey);
    if (!key) throw new ProblemError(400, 'validation', 'Invalid request', 'rootKey must be 32 bytes of base64');
    return this.root.unseal(key);
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
  submitShare(@Body(new ZodPipe(unsealShareBody)) body: z.output<typeof unsealShareBody>): Promise<ShareSubmissionStatus> {
    return this.root.submitShare(body.share);
  }

  @Delete('unseal/shares')
  @ApiBearerAuth()
  @Roles('provider-admin')
  @ApiOperation({ summary: 'Discard the shares submitted so far (start unsealing over)' })
  @ApiOkResponse({ schema: openApi(sealStatusResponse) })
  resetShares(): SealStatus {
    return this.root.resetShares();
  }
}
