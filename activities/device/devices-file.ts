import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, formatPath, parseConfig } from '../../config/config-errors';
import { devicesFileSchema, resolveDevice, type DevicesConfig } from './config';

/** Reads and validates a devices file; errors name the file and the key, e.g. `devices[0].baudRate`. */
export function loadDevicesConfig(file: string): DevicesConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new ConfigError(abs, [{ key: '(file)', message: `cannot read: ${(err as Error).message}` }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(abs, [{ key: '(file)', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  const parsed = parseConfig(devicesFileSchema, raw, abs, (p) => formatPath(p));
  const dir = path.dirname(abs);
  return {
    artifactRoots: parsed.artifactRoots.map((r) => path.resolve(dir, r)),
    devices: parsed.devices.map((d) => {
      const device = resolveDevice(d);
      if (device.uploader.type === 'command' && device.uploader.cwd) {
        device.uploader = { ...device.uploader, cwd: path.resolve(dir, device.uploader.cwd) };
      }
      return device;
    }),
  };
}
