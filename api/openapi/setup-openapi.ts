import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { zodComponents } from './components';
import { applySecurity } from './security';

/** Where the document and its UI are served. */
export const DOCS_PATHS = ['/docs', '/docs/{asset}', '/docs-json', '/docs-yaml'];

/** The document, built from the controllers' decorators and the zod components. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Durable agents API')
    .setDescription(
      'Start, watch, approve, cancel and terminate spec runs on Temporal; register specs. Every route but /health ' +
        'and the docs needs `Authorization: Bearer <token>` (401 without a valid one, 403 without the role the ' +
        'operation names: viewer reads, operator starts and stops runs, approver decides, admin does everything). ' +
        'Every error is JSON ' +
        '`{ statusCode, error, message }`; a 400 also lists `issues` (each bad field). Unknown routes answer 404, ' +
        'a method a route does not serve 405 with an `Allow` header.',
    )
    .setVersion('0.1.0')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...zodComponents() } };
  applySecurity(document);
  return document;
}

/** Swagger UI at /docs, the document at /docs-json. */
export function setupOpenApi(app: INestApplication, document: OpenAPIObject = buildOpenApiDocument(app)): void {
  SwaggerModule.setup('docs', app, document);
}
