import 'reflect-metadata';
import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Client } from '@temporalio/client';
import type { TemporalConfig } from '../temporal/config';
import { AppModule } from './app.module';
import { DEFAULT_EXAMPLES_DIR, DEFAULT_SPEC_STORE_DIR } from './config';
import { setupOpenApi } from './openapi/setup-openapi';
import { ApiExceptionFilter } from './temporal/api-exception.filter';

export interface CreateAppOptions {
  temporal: TemporalConfig;
  /** A client to use instead of one the API connects itself (tests); the API leaves it open. */
  client?: Client;
  specStoreDir?: string;
  /** Devices file for GET /devices (see workers/device-config.ts); none: no devices. */
  devicesFile?: string;
  /** Example specs registered at start-up; default `<repo>/examples`, null for none. */
  examplesDir?: string | null;
  /** Port to listen on; 0 picks a free one (see app.getUrl()). Default 3000. */
  port?: number;
  host?: string;
  logger?: LoggerService | LogLevel[] | false;
}

/** Builds the Nest application and starts listening; close it with app.close(). */
export async function createApp(opts: CreateAppOptions): Promise<INestApplication> {
  const app = await NestFactory.create(
    AppModule.forRoot({
      temporal: opts.temporal,
      client: opts.client,
      specStoreDir: opts.specStoreDir ?? DEFAULT_SPEC_STORE_DIR,
      devicesFile: opts.devicesFile,
      examplesDir: opts.examplesDir === undefined ? DEFAULT_EXAMPLES_DIR : opts.examplesDir,
    }),
    { logger: opts.logger, abortOnError: false },
  );
  app.enableShutdownHooks();
  app.useGlobalFilters(new ApiExceptionFilter());
  setupOpenApi(app);
  await app.listen(opts.port ?? 3000, opts.host ?? '127.0.0.1');
  return app;
}
