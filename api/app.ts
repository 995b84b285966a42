import 'reflect-metadata';
import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Client } from '@temporalio/client';
import type { LlmConfig } from '../activities/llm/config/types';
import type { TemporalConfig } from '../temporal/config';
import { DEFAULT_SPEC_LIMITS, type SpecLimits } from '../workflows/spec/schema';
import { AppModule } from './app.module';
import type { AuthOptions } from './auth/auth-options';
import { DEFAULT_BODY_LIMIT, DEFAULT_EXAMPLES_DIR } from './config';
import { bodyParserErrorToHttp, isBodyParserError } from './http/body-errors';
import { ApiExpressAdapter } from './http/express-adapter';
import { methodNotAllowed, routesOf } from './http/method-not-allowed';
import { buildOpenApiDocument, DOCS_PATHS, setupOpenApi } from './openapi/setup-openapi';
import { ApiExceptionFilter } from './temporal/api-exception.filter';

export interface CreateAppOptions {
  temporal: TemporalConfig;
  /** Required: every route but /health and the docs needs a bearer token the verifier accepts. */
  auth: AuthOptions;
  /** A client to use instead of one the API connects itself (tests); the API leaves it open. */
  client?: Client;
  /**
   * Where registered specs and webhook subscriptions live. Required, with no repository default:
   * api/main.ts passes the configured ones (SPEC_STORE_DIR, WEBHOOK_STORE_DIR); a test passes a
   * temporary directory, so it never reads a developer's subscriptions nor notifies them.
   */
  specStoreDir: string;
  webhookStoreDir: string;
  /** Devices file for GET /devices (see activities/device/devices-file.ts); none: no devices. */
  devicesFile?: string;
  /** Example specs registered at start-up; default `<repo>/examples`, null for none. */
  examplesDir?: string | null;
  /** Largest JSON body in bytes (413 beyond); default 10 MiB. */
  bodyLimit?: number;
  /** Size limits of submitted specs; default DEFAULT_SPEC_LIMITS. */
  specLimits?: SpecLimits;
  /** The workers' models config: model names in submitted specs must be in it (400 otherwise). None: not checked. */
  llm?: LlmConfig;
  /** Port to listen on; 0 picks a free one (see app.getUrl()). Default 3000. */
  port?: number;
  host?: string;
  logger?: LoggerService | LogLevel[] | false;
}

/** Builds the Nest application and starts listening; close it with app.close(). */
export async function createApp(opts: CreateAppOptions): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({
      temporal: opts.temporal,
      client: opts.client,
      specStoreDir: opts.specStoreDir,
      webhookStoreDir: opts.webhookStoreDir,
      devicesFile: opts.devicesFile,
      examplesDir: opts.examplesDir === undefined ? DEFAULT_EXAMPLES_DIR : opts.examplesDir,
      specLimits: opts.specLimits ?? DEFAULT_SPEC_LIMITS,
      llm: opts.llm ?? null,
      auth: opts.auth,
    }),
    new ApiExpressAdapter(),
    // Our own JSON parser below, with our limit; no form parser: every body is JSON.
    { logger: opts.logger, abortOnError: false, bodyParser: false },
  );
  app.enableShutdownHooks();
  app.disable('x-powered-by');
  app.useGlobalFilters(new ApiExceptionFilter());

  // Order matters: express runs these before the routes Nest registers when it initialises.
  const document = buildOpenApiDocument(app);
  app.use(methodNotAllowed(routesOf(document.paths, DOCS_PATHS)));
  app.useBodyParser('json', { limit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT });
  app.use((err: unknown, _req: unknown, res: JsonResponse, next: (err: unknown) => void) => {
    if (!isBodyParserError(err)) return next(err);
    const body = bodyParserErrorToHttp(err);
    res.status(body.statusCode).json(body);
  });
  setupOpenApi(app, document);

  await app.listen(opts.port ?? 3000, opts.host ?? '127.0.0.1');
  return app;
}

interface JsonResponse {
  status(code: number): JsonResponse;
  json(body: unknown): void;
}
