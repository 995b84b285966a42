import path from 'node:path';
import { z } from 'zod';
import type { DeviceConfig } from '../activities/device/config';
import { loadDevicesConfig } from '../activities/device/devices-file';
import { durationSchema, durationToMs } from '../workflows/contracts/duration';
import { ConfigError, parseConfig } from '../config/config-errors';

export interface DeviceWorkerConfig {
  devicesFile: string;
  artifactRoots: string[];
  device: DeviceConfig;
  shutdownGraceTimeMs: number;
  /** Where the worker records the process groups it starts (upload commands), see process-ledger.ts. */
  runDir: string;
}

const envSchema = z.object({
  DEVICES_CONFIG: z.string().min(1).default('devices.json'),
  DEVICE_ID: z.string().min(1).optional(),
  DEVICE_WORKER_SHUTDOWN_GRACE: durationSchema.default('10s'),
  WORKER_RUN_DIR: z.string().min(1).default('.data/run'),
});

/** The device this worker process serves: `DEVICE_ID` in `DEVICES_CONFIG` (optional when the file declares one). */
export function loadDeviceWorkerConfig(env: NodeJS.ProcessEnv = process.env): DeviceWorkerConfig {
  const e = parseConfig(envSchema, env, 'environment');
  const devicesFile = path.resolve(e.DEVICES_CONFIG);
  const config = loadDevicesConfig(devicesFile);
  const ids = config.devices.map((d) => d.id);
  let device: DeviceConfig | undefined;
  if (e.DEVICE_ID === undefined) {
    if (config.devices.length > 1) {
      throw new ConfigError('environment', [
        { key: 'DEVICE_ID', message: `required: ${devicesFile} declares several devices (${ids.join(', ')})` },
      ]);
    }
    device = config.devices[0];
  } else {
    device = config.devices.find((d) => d.id === e.DEVICE_ID);
    if (!device) {
      throw new ConfigError('environment', [
        { key: 'DEVICE_ID', message: `no device "${e.DEVICE_ID}" in ${devicesFile} (devices: ${ids.join(', ')})` },
      ]);
    }
  }
  return {
    devicesFile,
    artifactRoots: config.artifactRoots,
    device: device as DeviceConfig,
    shutdownGraceTimeMs: durationToMs(e.DEVICE_WORKER_SHUTDOWN_GRACE),
    runDir: path.resolve(e.WORKER_RUN_DIR),
  };
}
