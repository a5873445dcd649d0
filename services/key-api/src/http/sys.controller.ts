import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { parseRootKey } from '@keyward/crypto';
import { Public, ProblemError } from '@keyward/platform';
import { Roles } from '../auth/decorators';
import { RootKeyService, type SealStatus } from '../crypto/root-key.service';
import { sealStatusResponse, unsealBody } from './schemas/crypto.schema';
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
}
