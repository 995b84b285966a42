import { Module, type DynamicModule } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import { DeviceStatusService } from '../devices/device-status.service';
import type { SpecStore } from '../specs/spec-store';
import { SPEC_STORE, TEMPORAL_CLIENT } from '../tokens';
import { ApiMetrics } from './api-metrics';
import { MetricsController } from './metrics.controller';
import { countRuns, pendingApprovals } from './run-counts';

export interface MetricsModuleOptions {
  /** The devices module the app imports (the same object, so its DeviceStatusService is shared). */
  devices: DynamicModule;
  /** How long a scrape's visibility and device figures are reused; default 10 s. */
  cacheMs?: number;
}

export const DEFAULT_METRICS_CACHE_MS = 10_000;

/** GET /metrics and the registry createApp hangs the HTTP metrics middleware on. */
@Module({})
export class MetricsModule {
  static forRoot(opts: MetricsModuleOptions): DynamicModule {
    return {
      module: MetricsModule,
      imports: [opts.devices],
      controllers: [MetricsController],
      providers: [
        {
          provide: ApiMetrics,
          inject: [TEMPORAL_CLIENT, SPEC_STORE, DeviceStatusService],
          useFactory: (client: Client, specs: SpecStore, devices: DeviceStatusService) =>
            new ApiMetrics(
              {
                runs: async () => {
                  const names = await specs.names();
                  const [runs, approvals] = await Promise.all([
                    countRuns(client, names),
                    pendingApprovals(client, names, Date.now()),
                  ]);
                  return { runs, approvals: approvals.approvals, approvalsTruncated: approvals.truncated };
                },
                devices: () => devices.list(),
              },
              opts.cacheMs ?? DEFAULT_METRICS_CACHE_MS,
            ),
        },
      ],
      exports: [ApiMetrics],
    };
  }
}
