/**
 * Server-side device declarations (`devices.json`): where each board is, how to upload to it,
 * how to tell it booted, and the queue's timeouts and retry policy. Requests never choose any
 * of this; a spec only names a device id.
 */
import { z } from 'zod';
import { durationSchema, durationToMs } from '../../workflows/contracts/duration';
import { DEVICE_ID_RE, deviceTaskQueue, type DeviceRetry, type DeviceSettings } from '../../workflows/contracts/device';

const regexSchema = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a valid regular expression' },
);

const SIZE_UNITS: Record<string, number> = { '': 1, KB: 1024, MB: 1024 * 1024 };
const byteSize = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(/^(0x[0-9a-fA-F]+|\d+(KB|MB)?)$/, 'use bytes, 0x hex, or e.g. 4MB'),
  ])
  .transform((v) => {
    if (typeof v === 'number') return v;
    if (v.startsWith('0x')) return parseInt(v, 16);
    const m = /^(\d+)(KB|MB)?$/.exec(v) as RegExpExecArray;
    return Number(m[1]) * (SIZE_UNITS[m[2] ?? ''] as number);
  });

const espSerialSchema = z.strictObject({
  type: z.literal('esp-serial'),
  /** Where the app image goes (the app partition; 0x10000 on most ESP-IDF/Arduino layouts). */
  flashOffset: byteSize.default(0x10000),
  flashSize: byteSize.default(8 * 1024 * 1024),
  /** FLASH_DATA block size; must divide the 4 KiB erase sector so uploads can resume on a sector. */
  blockSize: z
    .number()
    .int()
    .refine((n) => [256, 512, 1024, 2048, 4096].includes(n), 'must be 256, 512, 1024, 2048 or 4096')
    .default(1024),
  /** `classic`: pulse DTR/RTS (USB-UART bridge wired as on dev kits) to enter the ROM loader; `none`: already in it. */
  reset: z.enum(['classic', 'none']).default('classic'),
  syncAttempts: z.number().int().min(1).max(100).default(10),
  commandTimeout: durationSchema.default('3s'),
});

const commandSchema = z.strictObject({
  type: z.literal('command'),
  /** argv, no shell; `{artifact}`, `{port}`, `{baud}`, `{otaUrl}` are replaced. */
  argv: z.array(z.string().min(1)).min(1),
  cwd: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
  /** Output that means the board is offline rather than the upload broken. */
  offlinePattern: regexSchema.default(
    'Failed to connect|could not open port|No such file or directory|No serial data received',
  ),
});

const httpOtaSchema = z.strictObject({
  type: z.literal('http-ota'),
  method: z.enum(['POST', 'PUT']).default('POST'),
  headers: z.record(z.string(), z.string()).optional(),
});

const uploaderSchema = z.discriminatedUnion('type', [espSerialSchema, commandSchema, httpOtaSchema]);

const deviceSchema = z
  .strictObject({
    id: z.string().regex(DEVICE_ID_RE, 'must be letters, digits, _ or - (max 64)'),
    description: z.string().optional(),
    serialPath: z.string().min(1).optional(),
    baudRate: z.number().int().positive().default(115200),
    otaUrl: z.url().optional(),
    uploader: uploaderSchema,
    verify: z
      .strictObject({
        /** A console line that proves the new firmware runs. */
        bootLine: regexSchema,
        /** A line to write first (e.g. `version`), for uploaders after which the boot already scrolled past. */
        send: z.string().min(1).optional(),
        timeout: durationSchema.default('30s'),
      })
      .optional(),
    uploadTimeout: durationSchema.default('300s'),
    heartbeatTimeout: durationSchema.default('30s'),
    pickupTimeout: durationSchema.default('60s'),
    commandTimeout: durationSchema.default('30s'),
    lease: durationSchema.default('5m'),
    retry: z
      .strictObject({
        maxAttempts: z.number().int().min(1).default(3),
        initialInterval: durationSchema.default('10s'),
        backoffCoefficient: z.number().min(1).default(2),
        maxInterval: durationSchema.default('5m'),
      })
      .prefault({}),
  })
  .superRefine((d, ctx) => {
    const need = (ok: boolean, path: string[], message: string) =>
      ok || ctx.addIssue({ code: 'custom', path, message });
    const t = d.uploader.type;
    need(t !== 'esp-serial' || d.serialPath !== undefined, ['serialPath'], 'the esp-serial uploader needs serialPath');
    need(t !== 'http-ota' || d.otaUrl !== undefined, ['otaUrl'], 'the http-ota uploader needs otaUrl');
    need(
      d.verify === undefined || d.serialPath !== undefined,
      ['verify'],
      'verification reads the serial console: set serialPath',
    );
    if (d.uploader.type === 'command') {
      const argv = d.uploader.argv.join(' ');
      need(!argv.includes('{port}') || d.serialPath !== undefined, ['uploader', 'argv'], '{port} needs serialPath');
      need(!argv.includes('{otaUrl}') || d.otaUrl !== undefined, ['uploader', 'argv'], '{otaUrl} needs otaUrl');
    }
  });

export const devicesFileSchema = z
  .strictObject({
    /** Uploads must come from inside one of these directories (relative to this file). Empty: anywhere. */
    artifactRoots: z.array(z.string().min(1)).default([]),
    devices: z.array(deviceSchema).min(1),
  })
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.devices.forEach((d, i) => {
      if (seen.has(d.id))
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'id'], message: `duplicate device id "${d.id}"` });
      seen.add(d.id);
    });
  });

type RawDevice = z.output<typeof deviceSchema>;
export type EspSerialUploaderConfig = Omit<z.output<typeof espSerialSchema>, 'commandTimeout'> & {
  commandTimeoutMs: number;
};
export type CommandUploaderConfig = z.output<typeof commandSchema>;
export type HttpOtaUploaderConfig = z.output<typeof httpOtaSchema>;
export type UploaderConfig = EspSerialUploaderConfig | CommandUploaderConfig | HttpOtaUploaderConfig;

export interface DeviceConfig {
  id: string;
  description?: string;
  serialPath?: string;
  baudRate: number;
  otaUrl?: string;
  uploader: UploaderConfig;
  verify?: { bootLine: string; send?: string; timeoutMs: number };
  uploadTimeoutMs: number;
  heartbeatTimeoutMs: number;
  pickupTimeoutMs: number;
  commandTimeoutMs: number;
  leaseMs: number;
  retry: DeviceRetry;
}

export interface DevicesConfig {
  /** Absolute directories; empty means any path. */
  artifactRoots: string[];
  devices: DeviceConfig[];
}

function resolveUploader(u: RawDevice['uploader']): UploaderConfig {
  if (u.type === 'esp-serial') {
    const { commandTimeout, ...rest } = u;
    return { ...rest, commandTimeoutMs: durationToMs(commandTimeout) };
  }
  return u;
}

export function resolveDevice(d: RawDevice): DeviceConfig {
  return {
    id: d.id,
    description: d.description,
    serialPath: d.serialPath,
    baudRate: d.baudRate,
    otaUrl: d.otaUrl,
    uploader: resolveUploader(d.uploader),
    verify: d.verify && { bootLine: d.verify.bootLine, send: d.verify.send, timeoutMs: durationToMs(d.verify.timeout) },
    uploadTimeoutMs: durationToMs(d.uploadTimeout),
    heartbeatTimeoutMs: durationToMs(d.heartbeatTimeout),
    pickupTimeoutMs: durationToMs(d.pickupTimeout),
    commandTimeoutMs: durationToMs(d.commandTimeout),
    leaseMs: durationToMs(d.lease),
    retry: {
      maximumAttempts: d.retry.maxAttempts,
      initialInterval: durationToMs(d.retry.initialInterval),
      backoffCoefficient: d.retry.backoffCoefficient,
      maximumInterval: durationToMs(d.retry.maxInterval),
    },
  };
}

/** What the device's lock hands to each holder: enough to schedule actions on the device queue. */
export function deviceSettings(d: DeviceConfig): DeviceSettings {
  return {
    deviceId: d.id,
    taskQueue: deviceTaskQueue(d.id),
    uploader: d.uploader.type,
    uploadTimeoutMs: d.uploadTimeoutMs,
    heartbeatTimeoutMs: d.heartbeatTimeoutMs,
    pickupTimeoutMs: d.pickupTimeoutMs,
    commandTimeoutMs: d.commandTimeoutMs,
    retry: d.retry,
    leaseMs: d.leaseMs,
  };
}
