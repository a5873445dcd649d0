import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { PublicKeyService, type Jwks, type PublicKeyAnswer } from '@keyward/keys';
import { Roles } from '../auth/decorators';
import type { Caller } from '../platform/caller';
import { keyRefParam } from '../platform/common.schema';
import { RequestCaller } from '../platform/request-caller';
import { openApi, ZodPipe } from '../platform/zod.pipe';
import { jwksResponse, publicKeyQuery, publicKeyResponse } from './public-key.schema';

/** Public keys of asymmetric keys, for key-users and auditors (and, through them, relying parties). */
@ApiTags('keys')
@ApiBearerAuth()
@Controller('v1')
export class PublicKeyController {
  constructor(private readonly publicKeys: PublicKeyService) {}

  @Get('keys/:id/public-key')
  @Roles('key-user', 'auditor')
  @ApiOperation({ summary: 'The public key of a version of an asymmetric key, as PEM (SPKI) and JWK' })
  @ApiParam({ name: 'id', description: 'key id, or alias/<name> (URL-encoded)' })
  @ApiQuery({ name: 'query', required: false, schema: openApi(publicKeyQuery, 'input') })
  @ApiOkResponse({ schema: openApi(publicKeyResponse) })
  publicKey(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Query(new ZodPipe(publicKeyQuery, 'query')) q: z.output<typeof publicKeyQuery>,
    @RequestCaller() caller: Caller,
  ): Promise<PublicKeyAnswer> {
    return this.publicKeys.publicKey(caller.principal.tenantId, ref, q.version);
  }

  @Get('tenant/jwks')
  @Roles('key-user', 'auditor')
  @Header('content-type', 'application/jwk-set+json; charset=utf-8')
  @ApiOperation({ summary: "The tenant's JWKS: the public keys of its Active asymmetric keys (kid = <keyId>:<version>)" })
  @ApiOkResponse({ schema: openApi(jwksResponse) })
  jwks(@RequestCaller() caller: Caller): Promise<Jwks> {
    return this.publicKeys.jwks(caller.principal.tenantId);
  }
}
