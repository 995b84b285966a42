import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { httpLoggingOptions } from './http-logging';

/**
 * nestjs-pino on the given JSON logger: the request log, and Nest's own `Logger` (which
 * createApp makes the application logger) writing through the same logger with the request id.
 */
@Module({})
export class ApiLoggingModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: ApiLoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: httpLoggingOptions(logger) })],
      exports: [LoggerModule],
    };
  }
}
