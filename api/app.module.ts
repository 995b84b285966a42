import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { Client } from '@temporalio/client';
import type { LlmConfig } from '../activities/llm/config/types';
import type { TemporalConfig } from '../temporal/config';
import type { Tracing } from '../temporal/tracing';
import type { SpecLimits } from '../workflows/spec/schema';
import { ApprovalsModule } from './approvals/approvals.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { AuthGuard } from './auth/auth.guard';
import type { AuthOptions } from './auth/auth-options';
import { DevicesModule } from './devices/devices.module';
import { HealthController } from './health/health.controller';
import { EventsModule } from './events/events.module';
import { HistoryModule } from './history/history.module';
import { McpModule } from './mcp/mcp.module';
import { McpServerModule } from './mcp-server/mcp-server.module';
import { ApiLoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import type { Logger as JsonLogger } from 'pino';
import { flushTracesOnShutdown } from './http/request-tracing';
import { CodecController } from './codec/codec.controller';
import { AnalyticsController } from './analytics/analytics.controller';
import { AnalyticsService } from './analytics/analytics.service';
import { ExampleSpecsLoader } from './specs/example-specs.loader';
import { SpecStore } from './specs/spec-store';
import { SpecsController } from './specs/specs.controller';
import { temporalClientProviders } from './temporal/temporal-client.provider';
import {
  AUTH_OPTIONS,
  EXAMPLES_DIR,
  LLM_MODELS,
  SPEC_LIMITS,
  SPEC_STORE,
  TEMPORAL_CLIENT,
  TEMPORAL_CONFIG,
} from './tokens';
import { WorkflowsController } from './workflows/workflows.controller';
import { WorkflowsService } from './workflows/workflows.service';

export interface AppModuleOptions {
  temporal: TemporalConfig;
  client?: Client;
  specStoreDir: string;
  webhookStoreDir: string;
  devicesFile?: string;
  /** null: register no examples. */
  examplesDir: string | null;
  specLimits: SpecLimits;
  /** Models config the workers share, for checking model names at submit; null: not checked. */
  llm: LlmConfig | null;
  /** Who may call: the token verifier and the secrets and URLs features that sign or link need. */
  auth: AuthOptions;
  /** The JSON logger for the request log and Nest's Logger; none: no request log. */
  jsonLogger?: JsonLogger;
  /** How long GET /metrics reuses the figures it read from Temporal (default 10 s). */
  metricsCacheMs?: number;
  /** OTLP tracing for the Temporal client (and flushed at shutdown); none: off. */
  tracing?: Tracing;
}

/** What every feature module shares: the Temporal client and config, the spec store, the auth options. */
@Global()
@Module({})
class CoreModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        ...temporalClientProviders(opts.temporal, opts.client, opts.tracing),
        ...flushTracesOnShutdown(opts.tracing),
        { provide: SPEC_STORE, useValue: new SpecStore(opts.specStoreDir) },
        { provide: EXAMPLES_DIR, useValue: opts.examplesDir },
        { provide: SPEC_LIMITS, useValue: opts.specLimits },
        { provide: LLM_MODELS, useValue: opts.llm },
        { provide: AUTH_OPTIONS, useValue: opts.auth },
      ],
      exports: [TEMPORAL_CLIENT, TEMPORAL_CONFIG, SPEC_STORE, EXAMPLES_DIR, SPEC_LIMITS, LLM_MODELS, AUTH_OPTIONS],
    };
  }
}

@Module({ controllers: [WorkflowsController], providers: [WorkflowsService] })
class WorkflowsModule {}

@Module({ controllers: [SpecsController], providers: [ExampleSpecsLoader] })
class SpecsModule {}

@Module({ controllers: [HealthController] })
class HealthModule {}

@Module({ controllers: [CodecController] })
class CodecModule {}

@Module({ controllers: [AnalyticsController], providers: [AnalyticsService] })
class AnalyticsModule {}

@Module({})
export class AppModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    const devices = DevicesModule.forRoot({ devicesFile: opts.devicesFile });
    return {
      module: AppModule,
      // Every route needs a token unless @Public (api/auth).
      providers: [{ provide: APP_GUARD, useClass: AuthGuard }],
      // Feature modules: one per line.
      imports: [
        CoreModule.forRoot(opts),
        WorkflowsModule,
        HistoryModule,
        EventsModule,
        SpecsModule,
        HealthModule,
        McpModule,
        McpServerModule,
        CodecModule,
        AnalyticsModule,
        devices,
        MetricsModule.forRoot({ devices, cacheMs: opts.metricsCacheMs }),
        ...(opts.jsonLogger ? [ApiLoggingModule.forRoot(opts.jsonLogger)] : []),
        ApprovalsModule,
        WebhooksModule.forRoot({ storeDir: opts.webhookStoreDir }),
      ],
    };
  }
}
