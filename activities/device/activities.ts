/**
 * The activities of one device's worker (task queue `device-upload.<id>`, one slot). Each checks
 * its fencing token against the device's lock first (every action holds the lock), keeps the
 * hold's lease while it runs, and opens the board's port exclusively for the action's duration.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type {
  CurrentAction,
  DeviceActivities,
  DeviceCommandInput,
  DeviceCommandResult,
  DeviceUploadInput,
  DeviceUploadResult,
  HolderView,
  UploadProgress,
  UploaderType,
} from '../../workflows/contracts/device';
import { timedUpload } from '../metrics/device-metrics';
import { readArtifact } from './artifact';
import type { DeviceConfig } from './config';
import { LinkTimeout, verifyFailed } from './errors';
import type { Fence } from './fence';
import { md5Hex } from './rom-protocol';
import { SerialLink } from './serial-link';
import { uploadWithCommand } from './uploaders/command';
import { uploadEspSerial } from './uploaders/esp-serial';
import { uploadOverHttp } from './uploaders/http-ota';
import type { Uploader } from './uploaders/uploader';

export interface DeviceActivityDeps {
  device: DeviceConfig;
  /** Absolute directories uploads may come from; empty: anywhere. */
  artifactRoots: readonly string[];
  fence: Fence;
  /** Tells the device's lock what runs now (best effort, never awaited). */
  announce?(action: CurrentAction): void;
  /**
   * Keeps the hold's lease while its action runs (so an upload outlives its lease even with the
   * run's workers down); returns the function that stops renewing.
   */
  keepLease?(holder: HolderView): () => void;
}

const UPLOADERS: Record<UploaderType, Uploader> = {
  'esp-serial': uploadEspSerial,
  command: uploadWithCommand,
  'http-ota': uploadOverHttp,
};

/**
 * Heartbeats the latest details at a third of the heartbeat timeout, so long quiet waits (erase,
 * boot) do not time out while progress still reaches the server as it happens.
 */
async function withHeartbeats<T>(fn: (beat: (details?: unknown) => void) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  let latest: unknown = ctx.info.heartbeatDetails;
  const beat = (details?: unknown) => {
    if (details !== undefined) latest = details;
    ctx.heartbeat(latest);
  };
  const every = Math.max(200, Math.floor((ctx.info.heartbeatTimeoutMs ?? 30_000) / 3));
  const timer = setInterval(() => beat(), every);
  try {
    return await fn(beat);
  } catch (err) {
    // Cancelling closes the port, which fails whatever waited on it: report the cancellation.
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
    throw err;
  } finally {
    clearInterval(timer);
  }
}

export function createDeviceActivities(deps: DeviceActivityDeps): DeviceActivities {
  const { device } = deps;
  const checkDevice = (deviceId: string) => {
    if (deviceId !== device.id) {
      throw ApplicationFailure.create({
        type: 'WrongDevice',
        message: `this worker serves "${device.id}", not "${deviceId}"`,
        nonRetryable: true,
      });
    }
  };

  const announce = (ctx: Context, origin: DeviceUploadInput['origin'], started: number) =>
    deps.announce?.({
      ...origin,
      activity: ctx.info.activityType,
      attempt: ctx.info.attempt,
      startedAt: new Date(started).toISOString(),
    });

  /** Checks the fencing token, then runs `fn` with the hold's lease kept until it ends. */
  const fenced = async <T>(token: number | undefined, fn: () => Promise<T>): Promise<T> => {
    const holder = await deps.fence.check(token);
    const stop = holder && deps.keepLease?.(holder);
    try {
      return await fn();
    } finally {
      stop?.();
    }
  };

  return {
    async deviceUpload(input: DeviceUploadInput): Promise<DeviceUploadResult> {
      const started = Date.now();
      checkDevice(input.deviceId);
      const ctx = Context.current();
      // Heartbeats from the start: reading the lock can take seconds right after a worker restart.
      const { file, image, md5, report } = await withHeartbeats((beat) =>
        fenced(input.token, async () => {
          announce(ctx, input.origin, started);
          const { file, image } = await readArtifact(input.artifact, deps.artifactRoots);
          const md5 = md5Hex(image);
          const report = await timedUpload(ctx.metricMeter, device.id, () =>
            UPLOADERS[device.uploader.type]({
              device,
              artifact: file,
              image,
              md5,
              previous: ctx.info.heartbeatDetails as UploadProgress | undefined,
              progress: (p) => beat(p),
              signal: ctx.cancellationSignal,
            }),
          );
          return { file, image, md5, report };
        }),
      );
      const finished = Date.now();
      return {
        deviceId: device.id,
        artifact: file,
        uploader: device.uploader.type,
        bytes: image.length,
        md5,
        attempt: ctx.info.attempt,
        queuedMs: Math.max(0, started - ctx.info.currentAttemptScheduledTimestampMs),
        startedAt: new Date(started).toISOString(),
        finishedAt: new Date(finished).toISOString(),
        durationMs: finished - started,
        ...(report.resumedFromBlock ? { resumedFromBlock: report.resumedFromBlock } : {}),
        ...(report.bootLine ? { bootLine: report.bootLine } : {}),
      };
    },

    async deviceCommand(input: DeviceCommandInput): Promise<DeviceCommandResult> {
      checkDevice(input.deviceId);
      if (!device.serialPath) {
        throw ApplicationFailure.create({
          type: 'NoConsole',
          message: `device "${device.id}" has no serialPath: it has no console to send commands to`,
          nonRetryable: true,
        });
      }
      if (/[\r\n]/.test(input.send)) {
        throw ApplicationFailure.create({
          type: 'InvalidCommand',
          message: 'a console command is one line',
          nonRetryable: true,
        });
      }
      const ctx = Context.current();
      const started = Date.now();
      const timeoutMs = input.timeoutMs ?? device.commandTimeoutMs;
      return withHeartbeats(() =>
        fenced(input.token, async () => {
          announce(ctx, input.origin, started);
          const link = await SerialLink.open(device.serialPath as string, device.baudRate, ctx.cancellationSignal);
          try {
            link.markLines();
            await link.write(`${input.send}\n`);
            const found = await link.waitForLine(new RegExp(input.expect), timeoutMs);
            return {
              deviceId: device.id,
              sent: input.send,
              line: found.line,
              groups: { ...(found.match.groups ?? {}) },
              lines: found.lines,
              durationMs: Date.now() - started,
            };
          } catch (err) {
            if (!(err instanceof LinkTimeout)) throw err;
            throw verifyFailed(`no reply matching /${input.expect}/ to "${input.send}" within ${timeoutMs} ms`, {
              lastLines: link.recent.slice(-10),
            });
          } finally {
            await link.close();
          }
        }),
      );
    },
  };
}
