import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { DataPlaneServer } from './crypto/data-plane.server';
import { describeProblems } from './openapi-problems';

/** OpenAPI document at /docs/json, browsable at /docs (Nest controllers plus the data plane). */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Keyward key-api')
    .setDescription('Multi-tenant, event-sourced key management. Errors are RFC 9457 problem documents (application/problem+json).')
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key: kw_…' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  app.get(DataPlaneServer).describe(document);
  describeProblems(document);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json', yamlDocumentUrl: 'docs/yaml' });
}
