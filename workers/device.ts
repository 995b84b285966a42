/**
 * Entry of a device worker process: one per board (`DEVICE_ID` in `DEVICES_CONFIG`). It makes
 * sure the device's lock workflow runs, then serves `device-upload.<id>` with one slot until
 * SIGINT/SIGTERM.
 */
import { deviceTaskQueue } from '../workflows/contracts/device';
import { loadDeviceWorkerConfig } from './device-config';
import { createDeviceWorker } from './device-worker';
import { claimProcessGroups } from './process-groups';
import { runWorkerProcess } from './run-worker-process';
import { SERVICE_NAMES, tracingFromEnv } from '../temporal/tracing';

const loadConfig = () => ({ ...loadDeviceWorkerConfig(), tracing: tracingFromEnv(SERVICE_NAMES.deviceWorker) });

runWorkerProcess('device worker', loadConfig, async (connection, temporal, config) => {
  // Before polling: an upload command a killed predecessor left running still holds the port.
  await claimProcessGroups('device worker', config.runDir, deviceTaskQueue(config.device.id));
  const worker = await createDeviceWorker({
    connection,
    temporal,
    device: config.device,
    artifactRoots: config.artifactRoots,
    shutdownGraceTimeMs: config.shutdownGraceTimeMs,
    tracing: config.tracing,
  });
  const where = config.device.serialPath ?? config.device.otaUrl;
  const queue = deviceTaskQueue(config.device.id);
  return {
    worker,
    banner: `"${config.device.id}" (${config.device.uploader.type}, ${where}) on task queue "${queue}"`,
  };
});
