import { Injectable, Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { ProblemError } from '@keyward/platform';
import { sendKeyApiProblem } from '../errors/problem.filter';
import { RequestAuthenticator } from '../auth/request-authenticator';
import { CryptoService } from '@keyward/keys';
import { MutualTlsCheck } from '../auth/mutual-tls.check';
import { keyRefParam } from '../platform/common.schema';
import { openApi, validated } from '../platform/zod.pipe';
import { CRYPTO_ROUTES, type DataPlaneRoute } from './crypto.routes';

const KEY_USERS = ['key-user'] as const;
const JSON_TYPE = 'application/json; charset=utf-8';
const JSON_BODY = /^application\/json\s*(;|$)/i;
const notJson = (): ProblemError =>
  new ProblemError(415, 'unsupported-media-type', 'Unsupported media type', 'content type not supported; send application/json');

/**
 * Serves the data plane straight from Fastify: one authentication call (the same
 * RequestAuthenticator as the Nest guard: passport strategy, lockout, rate limits, roles), zod
 * validation, the CryptoService, a JSON answer. No guard, interceptor or pipe chain, and no
 * per-request log line on success: every operation, refused or not, already leaves a usage
 * record on keyward.usage; failures are logged like any other request.
 */
@Injectable()
export class DataPlaneServer {
  private readonly logger = new Logger('data-plane');

  constructor(
    private readonly authenticator: RequestAuthenticator,
    private readonly crypto: CryptoService,
    private readonly mutualTls: MutualTlsCheck,
  ) {}

  register(fastify: FastifyInstance): void {
    for (const r of CRYPTO_ROUTES) {
      fastify.route({
        method: 'POST',
        url: r.path,
        handler: (request, reply) => this.serve(r, request, reply),
        ...(r.bodyLimit === undefined ? {} : { bodyLimit: r.bodyLimit }),
        // Every operation, refused or not, leaves a usage record: only failures get a log line.
        config: { quietSuccess: true },
        errorHandler: (error, request, reply) => {
          sendKeyApiProblem(request, reply, error, this.logger);
        },
      });
    }
  }

  /** Adds the data-plane routes to the OpenAPI document Nest built from its controllers. */
  describe(document: OpenAPIObject): void {
    for (const r of CRYPTO_ROUTES) {
      const path = r.path.replace(/:(\w+)/g, '{$1}');
      document.paths[path] = {
        post: {
          tags: ['crypto'],
          summary: r.summary,
          security: [{ bearer: [] }],
          parameters: r.path.includes(':id')
            ? [{ name: 'id', in: 'path', required: true, description: 'key id, or alias/<name> (URL-encoded)', schema: { type: 'string' } }]
            : [],
          requestBody: { required: true, content: { 'application/json': { schema: openApi(r.body, 'input') } } },
          responses: {
            '200': { description: '', content: { 'application/json': { schema: openApi(r.response) } } },
            default: { description: 'RFC 9457 problem document', content: { 'application/problem+json': {} } },
          },
        },
      };
    }
  }

  private async serve(r: DataPlaneRoute, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const principal = await this.authenticator.authenticate(request, reply, KEY_USERS);
    const params = request.params as { id?: string };
    const ref = params.id === undefined ? '' : validated(keyRefParam, params.id, 'path');
    if (!JSON_BODY.test(request.headers['content-type'] ?? '')) throw notJson();
    const body: unknown = validated(r.body, request.body, 'body');
    const result = await r.handle({
      crypto: this.crypto,
      mutualTls: this.mutualTls,
      caller: { principal, requestId: request.id },
      ref,
      body,
      request,
    });
    // Answers may hold plaintext or data keys: no cache may keep them.
    await reply.status(200).header('content-type', JSON_TYPE).header('cache-control', 'no-store').send(JSON.stringify(result));
  }
}
