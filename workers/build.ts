/** Entry of the build worker process: the `build` task queue, `BUILD_SLOTS` builds at a time. */
import { NativeConnection } from '@temporalio/worker';
import { loadTemporalConfig } from '../temporal/config';
import { loadBuildWorkerConfig } from './build-config';
import { createBuildWorker } from './build-worker';
import { ConfigError } from './config-errors';

async function main(): Promise<void> {
  const temporal = loadTemporalConfig();
  const config = loadBuildWorkerConfig();
  const connection = await NativeConnection.connect({ address: temporal.address });
  try {
    const worker = await createBuildWorker({ connection, temporal, config });
    const names = Object.keys(config.builds.workspaces).join(', ');
    console.log(`build worker: task queue "${config.taskQueue}", ${config.slots} slot(s), workspaces: ${names}`);
    await worker.run();
    console.log('build worker: drained and stopped');
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `build worker refused to start: ${err.message}` : err);
  process.exit(1);
});
