import { Controller, Get, Header, Inject, Param } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { devicesToPrometheus } from './device-metrics';
import { DeviceStatusService } from './device-status.service';
import type { DevicesResponse, DeviceStatusView } from './device-views';

@ApiTags('devices')
@Controller('devices')
export class DevicesController {
  constructor(@Inject(DeviceStatusService) private readonly status: DeviceStatusService) {}

  @Get()
  @ApiOperation({ summary: "Each device's queue, current upload and its progress, last result and metrics" })
  @ApiResponse({ status: 200, description: 'One entry per device of devices.json' })
  async list(): Promise<DevicesResponse> {
    return { devices: await this.status.list() };
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  @ApiOperation({ summary: 'Queue length, success rate and mean time to upload per device (Prometheus text format)' })
  async metrics(): Promise<string> {
    return devicesToPrometheus(await this.status.list());
  }

  @Get(':id')
  @ApiParam({ name: 'id', description: 'Device id from devices.json' })
  @ApiResponse({ status: 404, description: 'No such device' })
  one(@Param('id') id: string): Promise<DeviceStatusView> {
    return this.status.one(id);
  }
}
