/**
 * Entry of a device worker process: one per board (`DEVICE_ID` in `DEVICES_CONFIG`). It makes
 * sure the device's lock workflow runs, then serves `device-upload.<id>` with one slot until
 * SIGINT/SIGTERM.
 */
import { NativeConnection } from '@temporalio/worker';
import { loadTemporalConfig } from '../temporal/config';
import { deviceTaskQueue } from '../workflows/steps/device-contract';
import { ConfigError } from './config-errors';
import { loadDeviceWorkerConfig } from './device-config';
import { createDeviceWorker } from './device-worker';

async function main(): Promise<void> {
  const temporal = loadTemporalConfig();
  const config = loadDeviceWorkerConfig();
  const connection = await NativeConnection.connect({ address: temporal.address });
  try {
    const worker = await createDeviceWorker({
      connection,
      temporal,
      device: config.device,
      artifactRoots: config.artifactRoots,
      shutdownGraceTimeMs: config.shutdownGraceTimeMs,
    });
    const where = config.device.serialPath ?? config.device.otaUrl;
    console.log(
      `device worker: "${config.device.id}" (${config.device.uploader.type}, ${where}) on task queue "${deviceTaskQueue(config.device.id)}"`,
    );
    await worker.run();
    console.log('device worker: drained and stopped');
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `device worker refused to start: ${err.message}` : err);
  process.exit(1);
});
