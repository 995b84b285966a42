import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { Client } from '@temporalio/client';
import type { LlmConfig } from '../activities/llm/config/types';
import type { TemporalConfig } from '../temporal/config';
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
}

/** What every feature module shares: the Temporal client and config, the spec store, the auth options. */
@Global()
@Module({})
class CoreModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        ...temporalClientProviders(opts.temporal, opts.client),
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

@Module({})
export class AppModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
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
        DevicesModule.forRoot({ devicesFile: opts.devicesFile }),
        ApprovalsModule,
        WebhooksModule.forRoot({ storeDir: opts.webhookStoreDir }),
      ],
    };
  }
}
