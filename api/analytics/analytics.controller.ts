import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiBadRequest, ApiQueryFrom, ApiTemporalFailures, schemaRef } from '../openapi/components';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import { analyticsQuerySchema, type AnalyticsQuery } from './analytics-requests';
import { AnalyticsService } from './analytics.service';
import type { AnalyticsSummary } from './analytics-views';

@ApiTags('analytics')
@Controller('analytics')
export class AnalyticsController {
  constructor(@Inject(AnalyticsService) private readonly analytics: AnalyticsService) {}

  @Get('summary')
  @ApiOperation({
    operationId: 'analyticsSummary',
    summary: 'Runs by status, success rate, duration and cost over a window, from Temporal visibility',
    description:
      'Counts come from visibility counts; durations and cost from the runs themselves (up to 10,000, newest ' +
      'first). Runs older than the namespace retention are gone from visibility (TEMPORAL_RETENTION).',
  })
  @ApiQueryFrom(analyticsQuerySchema)
  @ApiResponse({ status: 200, schema: schemaRef('AnalyticsSummary') })
  @ApiBadRequest('A bad `since` or spec name: `issues` names it')
  @ApiTemporalFailures()
  summary(@Query(new ZodValidationPipe(analyticsQuerySchema)) query: AnalyticsQuery): Promise<AnalyticsSummary> {
    return this.analytics.summary(query);
  }
}
