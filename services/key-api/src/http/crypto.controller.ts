import { createPublicKey, type KeyObject } from 'node:crypto';
import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProblemError } from '@keyward/platform';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { Roles } from '../auth/decorators';
import type { Origin } from '../commands/commands';
import { payloadTooLargeProblem } from '../crypto/crypto-problems';
import { CryptoService, type Caller } from '../crypto/crypto.service';
import { MutualTlsCheck } from './mutual-tls.check';
import { RequestOrigin } from './request-origin';
import { keyRefParam } from './schemas/common.schema';
import {
  dataKeyBody,
  dataKeyResponse,
  decryptBody,
  decryptResponse,
  encryptBody,
  encryptResponse,
  exportMaterialBody,
  exportMaterialResponse,
  macBody,
  macResponse,
  MAX_AAD_BYTES,
  MAX_PLAINTEXT_BYTES,
  rewrapBody,
  rewrapResponse,
  verifyMacBody,
  verifyMacResponse,
} from './schemas/crypto.schema';
import { openApi, ZodPipe } from './zod.pipe';

function decoded(field: string, value: string, limit: number): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length > limit) throw payloadTooLargeProblem(field, limit);
  return bytes;
}
const optionalAad = (aad: string | undefined): Buffer | undefined => (aad === undefined ? undefined : decoded('aad', aad, MAX_AAD_BYTES));
const caller = (origin: Origin): Caller => ({ principal: origin.principal, requestId: origin.requestId });

/** The caller's RSA public key (2048 bits or more), or a precise 400. */
function rsaPublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ProblemError(400, 'validation', 'Invalid request', 'publicKey is not a PEM public key');
  }
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new ProblemError(422, 'weak-wrapping-key', 'Unsuitable wrapping key', 'publicKey must be an RSA key of 2048 bits or more');
  }
  return key;
}

/** The data plane. Only key-users call it: administrators manage keys but cannot use them. */
@ApiTags('crypto')
@ApiBearerAuth()
@Controller('v1')
@Roles('key-user')
export class CryptoController {
  constructor(
    private readonly crypto: CryptoService,
    private readonly mutualTls: MutualTlsCheck,
  ) {}

  @Post('keys/:id/encrypt')
  @HttpCode(200)
  @ApiOperation({ summary: 'Encrypt up to 64 KiB with the latest version of an Active key' })
  @ApiParam({ name: 'id', description: 'key id, or alias/<name> (URL-encoded)' })
  @ApiBody({ schema: openApi(encryptBody, 'input') })
  @ApiOkResponse({ schema: openApi(encryptResponse) })
  encrypt(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(encryptBody)) body: z.output<typeof encryptBody>,
    @RequestOrigin() origin: Origin,
  ) {
    return this.crypto.encrypt(caller(origin), ref, decoded('plaintext', body.plaintext, MAX_PLAINTEXT_BYTES), optionalAad(body.aad));
  }

  @Post('decrypt')
  @HttpCode(200)
  @ApiOperation({ summary: 'Decrypt a Keyward ciphertext (the key and version come from the ciphertext)' })
  @ApiBody({ schema: openApi(decryptBody, 'input') })
  @ApiOkResponse({ schema: openApi(decryptResponse) })
  decrypt(@Body(new ZodPipe(decryptBody)) body: z.output<typeof decryptBody>, @RequestOrigin() origin: Origin) {
    return this.crypto.decrypt(caller(origin), Buffer.from(body.ciphertext, 'base64'), optionalAad(body.aad));
  }

  @Post('keys/:id/data-key')
  @HttpCode(200)
  @ApiOperation({ summary: 'Generate a data key: its plaintext (use, then forget) and its ciphertext (store)' })
  @ApiBody({ schema: openApi(dataKeyBody, 'input') })
  @ApiOkResponse({ schema: openApi(dataKeyResponse) })
  dataKey(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(dataKeyBody)) body: z.output<typeof dataKeyBody>,
    @RequestOrigin() origin: Origin,
  ) {
    return this.crypto.dataKey(caller(origin), ref, body.bytes, optionalAad(body.aad), true);
  }

  @Post('keys/:id/data-key/without-plaintext')
  @HttpCode(200)
  @ApiOperation({ summary: 'Generate a data key and answer only its ciphertext (to hand to another service)' })
  @ApiBody({ schema: openApi(dataKeyBody, 'input') })
  @ApiOkResponse({ schema: openApi(dataKeyResponse) })
  dataKeyWithoutPlaintext(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(dataKeyBody)) body: z.output<typeof dataKeyBody>,
    @RequestOrigin() origin: Origin,
  ) {
    return this.crypto.dataKey(caller(origin), ref, body.bytes, optionalAad(body.aad), false);
  }

  @Post('rewrap')
  @HttpCode(200)
  @ApiOperation({ summary: "Re-encrypt a ciphertext under its key's latest version, without revealing the plaintext" })
  @ApiBody({ schema: openApi(rewrapBody, 'input') })
  @ApiOkResponse({ schema: openApi(rewrapResponse) })
  rewrap(@Body(new ZodPipe(rewrapBody)) body: z.output<typeof rewrapBody>, @RequestOrigin() origin: Origin) {
    return this.crypto.rewrap(caller(origin), Buffer.from(body.ciphertext, 'base64'), optionalAad(body.aad));
  }

  @Post('keys/:id/mac')
  @HttpCode(200)
  @ApiOperation({ summary: 'HMAC-SHA256 of up to 64 KiB with the latest version of an Active HMAC key' })
  @ApiBody({ schema: openApi(macBody, 'input') })
  @ApiOkResponse({ schema: openApi(macResponse) })
  mac(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(macBody)) body: z.output<typeof macBody>,
    @RequestOrigin() origin: Origin,
  ) {
    return this.crypto.mac(caller(origin), ref, decoded('data', body.data, MAX_PLAINTEXT_BYTES));
  }

  @Post('keys/:id/material')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Retrieve the material of an exportable key, wrapped under your RSA public key; needs mutual TLS and export enabled',
  })
  @ApiBody({ schema: openApi(exportMaterialBody, 'input') })
  @ApiOkResponse({ schema: openApi(exportMaterialResponse) })
  async material(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(exportMaterialBody)) body: z.output<typeof exportMaterialBody>,
    @Req() request: FastifyRequest,
    @RequestOrigin() origin: Origin,
  ) {
    await this.mutualTls.require(request, origin);
    return this.crypto.exportMaterial(caller(origin), ref, rsaPublicKey(body.publicKey));
  }

  @Post('keys/:id/verify-mac')
  @HttpCode(200)
  @ApiOperation({ summary: 'Verify a Keyward MAC (constant time)' })
  @ApiBody({ schema: openApi(verifyMacBody, 'input') })
  @ApiOkResponse({ schema: openApi(verifyMacResponse) })
  verifyMac(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(verifyMacBody)) body: z.output<typeof verifyMacBody>,
    @RequestOrigin() origin: Origin,
  ) {
    return this.crypto.verifyMac(caller(origin), ref, decoded('data', body.data, MAX_PLAINTEXT_BYTES), Buffer.from(body.mac, 'base64'));
  }
}
