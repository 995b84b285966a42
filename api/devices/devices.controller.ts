import { Controller, Get, Header, Inject, Param } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiPathParamFrom, schemaRef } from '../openapi/components';
import { devicesToPrometheus } from './device-metrics';
import { DeviceStatusService } from './device-status.service';
import type { DevicesResponse, DeviceStatusView } from './device-views';

// Never a 5xx: a device whose lock or task queue cannot be asked is reported with lockError instead.
@ApiTags('devices')
@Controller('devices')
export class DevicesController {
  constructor(@Inject(DeviceStatusService) private readonly status: DeviceStatusService) {}

  @Get()
  @ApiOperation({
    operationId: 'listDevices',
    summary: "Each device's queue, current upload and its progress, last result and metrics",
  })
  @ApiResponse({ status: 200, description: 'One entry per device of devices.json', schema: schemaRef('Devices') })
  async list(): Promise<DevicesResponse> {
    return { devices: await this.status.list() };
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  @ApiOperation({
    operationId: 'deviceMetrics',
    summary: 'Queue length, success rate and mean time to upload per device (Prometheus text format)',
  })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'Prometheus text format 0.0.4', schema: { type: 'string' } })
  async metrics(): Promise<string> {
    return devicesToPrometheus(await this.status.list());
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getDevice', summary: 'One device, as in the list' })
  @ApiPathParamFrom('id', z.string(), { description: 'Device id from devices.json' })
  @ApiResponse({ status: 200, schema: schemaRef('DeviceStatus') })
  @ApiResponse({ status: 404, description: 'No such device', schema: schemaRef('Error') })
  one(@Param('id') id: string): Promise<DeviceStatusView> {
    return this.status.one(id);
  }
}
