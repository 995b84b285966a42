import 'reflect-metadata';
import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Client } from '@temporalio/client';
import type { LlmConfig } from '../activities/llm/config/types';
import type { TemporalConfig } from '../temporal/config';
import type { Tracing } from '../temporal/tracing';
import { DEFAULT_SPEC_LIMITS, type SpecLimits } from '../workflows/spec/schema';
import { AppModule } from './app.module';
import type { AuthOptions } from './auth/auth-options';
import { DEFAULT_BODY_LIMIT, DEFAULT_EXAMPLES_DIR } from './config';
import { bodyParserErrorToHttp, isBodyParserError } from './http/body-errors';
import { codecCors } from './codec/codec-cors';
import { ApiExpressAdapter } from './http/express-adapter';
import { methodNotAllowed, routesOf } from './http/method-not-allowed';
import { traceRequests } from './http/request-tracing';
import { buildOpenApiDocument, DOCS_PATHS, setupOpenApi } from './openapi/setup-openapi';
import { ApiExceptionFilter } from './temporal/api-exception.filter';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { createJsonLogger } from '../config/json-logger';
import type { ApiLogConfig } from './logging/log-config';
import { QuietBootstrapLogger } from './logging/quiet-bootstrap-logger';
import { ApiMetrics } from './metrics/api-metrics';
import { isMcpEndpoint, jsonRpcBodyError, MCP_ENDPOINT_PATH } from './mcp-server/http/endpoint';
import { RouteTemplates } from './metrics/route-templates';

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
  /**
   * JSON logs (api/logging): a line per request with its id, and Nest's lines, through pino; used
   * when `logger` is not given. None: no request log. `destination` defaults to stdout.
   */
  log?: Pick<ApiLogConfig, 'level'> & { destination?: DestinationStream };
  /** How long GET /metrics reuses the figures it read from Temporal; default 10 s (tests: 0). */
  metricsCacheMs?: number;
  /** OTLP tracing (temporal/tracing.ts): HTTP server spans and the Temporal client's; none: off. */
  tracing?: Tracing;
}

/** Builds the Nest application and starts listening; close it with app.close(). */
export async function createApp(opts: CreateAppOptions): Promise<INestApplication> {
  const jsonLogger = opts.log && createJsonLogger({ name: 'api', ...opts.log });
  const jsonAppLogger = jsonLogger !== undefined && opts.logger === undefined;
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
      jsonLogger,
      metricsCacheMs: opts.metricsCacheMs,
      tracing: opts.tracing,
    }),
    new ApiExpressAdapter(),
    // Our own JSON parser below, with our limit; no form parser: every body is JSON.
    { logger: opts.logger, bufferLogs: jsonAppLogger, abortOnError: false, bodyParser: false },
  );
  if (jsonAppLogger) app.useLogger(new QuietBootstrapLogger(app.get(NestPinoLogger)));
  app.enableShutdownHooks();
  app.disable('x-powered-by');
  app.useGlobalFilters(new ApiExceptionFilter());

  // Order matters: express runs these before the routes Nest registers when it initialises.
  const document = buildOpenApiDocument(app);
  // First: the request's span is current for everything after it, the Temporal client's calls included.
  if (opts.tracing) app.use(traceRequests(opts.tracing.tracer));
  // Every request is counted, a 405 or 413 too, under its route template (never a run id).
  app.use(
    app
      .get(ApiMetrics)
      .httpMiddleware(new RouteTemplates([...Object.keys(document.paths), ...DOCS_PATHS, MCP_ENDPOINT_PATH])),
  );
  // Before the 405 check: the Web UI's preflight (OPTIONS) to the codec routes is answered here.
  app.use(codecCors(opts.temporal.uiUrl));
  app.use(methodNotAllowed(routesOf(document.paths, DOCS_PATHS)));
  app.useBodyParser('json', { limit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT });
  app.use((err: unknown, req: { path: string }, res: JsonResponse, next: (err: unknown) => void) => {
    if (!isBodyParserError(err)) return next(err);
    const body = bodyParserErrorToHttp(err);
    // /mcp speaks JSON-RPC: its clients expect a JSON-RPC error (-32700 for JSON that does not parse).
    res.status(body.statusCode).json(isMcpEndpoint(req.path) ? jsonRpcBodyError(body.statusCode, body.message) : body);
  });
  setupOpenApi(app, document);

  await app.listen(opts.port ?? 3000, opts.host ?? '127.0.0.1');
  return app;
}

interface JsonResponse {
  status(code: number): JsonResponse;
  json(body: unknown): void;
}
