import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Client } from '@temporalio/client';
import type { TemporalConfig } from '../../temporal/config';
import { Public } from '../auth/auth.decorators';
import { schemaRef } from '../openapi/components';
import { checkTemporal } from '../temporal/temporal-health';
import { TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';
import type { HealthResponse } from './health-views';

interface StatusSettable {
  status(code: number): unknown;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    @Inject(TEMPORAL_CONFIG) private readonly config: TemporalConfig,
  ) {}

  @Get()
  @Public() // liveness probes carry no token
  @ApiOperation({ summary: 'Whether the API can reach Temporal' })
  @ApiResponse({ status: 200, description: 'Temporal reachable', schema: schemaRef('HealthResponse') })
  @ApiResponse({
    status: 503,
    description: 'Temporal unreachable (the API itself is up)',
    schema: schemaRef('HealthResponse'),
  })
  async health(@Res({ passthrough: true }) res: StatusSettable): Promise<HealthResponse> {
    const temporal = await checkTemporal(this.client, this.config);
    res.status(temporal.reachable ? 200 : 503);
    return { status: temporal.reachable ? 'ok' : 'degraded', temporal };
  }
}
