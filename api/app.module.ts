import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import type { LlmConfig } from '../activities/llm/config/types';
import type { TemporalConfig } from '../temporal/config';
import type { SpecLimits } from '../workflows/spec/schema';
import { DevicesModule } from './devices/devices.module';
import { HealthController } from './health/health.controller';
import { HistoryModule } from './history/history.module';
import { McpModule } from './mcp/mcp.module';
import { ExampleSpecsLoader } from './specs/example-specs.loader';
import { SpecStore } from './specs/spec-store';
import { SpecsController } from './specs/specs.controller';
import { temporalClientProviders } from './temporal/temporal-client.provider';
import { EXAMPLES_DIR, LLM_MODELS, SPEC_LIMITS, SPEC_STORE, TEMPORAL_CLIENT, TEMPORAL_CONFIG } from './tokens';
import { WorkflowsController } from './workflows/workflows.controller';
import { WorkflowsService } from './workflows/workflows.service';

export interface AppModuleOptions {
  temporal: TemporalConfig;
  client?: Client;
  specStoreDir: string;
  devicesFile?: string;
  /** null: register no examples. */
  examplesDir: string | null;
  specLimits: SpecLimits;
  /** Models config the workers share, for checking model names at submit; null: not checked. */
  llm: LlmConfig | null;
}

/** What every feature module shares: the Temporal client and config, and the spec store. */
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
      ],
      exports: [TEMPORAL_CLIENT, TEMPORAL_CONFIG, SPEC_STORE, EXAMPLES_DIR, SPEC_LIMITS, LLM_MODELS],
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
      imports: [
        CoreModule.forRoot(opts),
        WorkflowsModule,
        HistoryModule,
        SpecsModule,
        HealthModule,
        McpModule,
        DevicesModule.forRoot({ devicesFile: opts.devicesFile }),
      ],
    };
  }
}
