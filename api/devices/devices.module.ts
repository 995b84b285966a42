import { Module, type DynamicModule } from '@nestjs/common';
import type { DeviceConfig } from '../../activities/device/config';
import { loadDevicesConfig } from '../../activities/device/devices-file';
import { DeviceStatusService } from './device-status.service';
import { DEVICES } from './device-tokens';
import { DevicesController } from './devices.controller';

export interface DevicesModuleOptions {
  /** The devices.json the device workers use; a bad file stops start-up with the file and key named. */
  devicesFile?: string;
  /** Given directly instead (tests). */
  devices?: DeviceConfig[];
}

/**
 * GET /devices, /devices/:id and /devices/metrics. Needs TEMPORAL_CLIENT and TEMPORAL_CONFIG from
 * the global core module. Wire it with `DevicesModule.forRoot({ devicesFile: process.env.DEVICES_CONFIG })`;
 * without a file or list it reports no devices.
 */
@Module({})
export class DevicesModule {
  static forRoot(opts: DevicesModuleOptions = {}): DynamicModule {
    const devices = opts.devices ?? (opts.devicesFile ? loadDevicesConfig(opts.devicesFile).devices : []);
    return {
      module: DevicesModule,
      controllers: [DevicesController],
      providers: [{ provide: DEVICES, useValue: devices }, DeviceStatusService],
      // GET /metrics reports the same device figures.
      exports: [DeviceStatusService],
    };
  }
}
