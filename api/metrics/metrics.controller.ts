import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { ApiMetrics } from './api-metrics';

/**
 * GET /metrics for Prometheus. On the API's port and behind its auth like every route: a scraper
 * sends a viewer's bearer token (Prometheus `authorization: { credentials_file: ... }`).
 */
@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(ApiMetrics) private readonly metrics: ApiMetrics) {}

  @Get()
  @Header('content-type', Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiOperation({
    operationId: 'metrics',
    summary: 'Prometheus metrics: HTTP requests, Node process, runs by spec and status, pending approvals, devices',
    description:
      'Prometheus text exposition format 0.0.4. Run and approval figures come from the visibility store and are ' +
      'cached for a few seconds (METRICS_CACHE_MS); a source that cannot be read is reported by ' +
      '`agent_metrics_source_up{source}` = 0 and its figures are left out. No label holds a workflow or run id.',
  })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'Prometheus text format 0.0.4', schema: { type: 'string' } })
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
