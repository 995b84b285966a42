/** Entry of the build worker process: the `build` task queue, `BUILD_SLOTS` builds at a time. */
import { loadBuildWorkerConfig } from './build-config';
import { createBuildWorker } from './build-worker';
import { claimProcessGroups } from './process-groups';
import { runWorkerProcess } from './run-worker-process';
import { SERVICE_NAMES, tracingFromEnv } from '../temporal/tracing';

const loadConfig = () => ({ ...loadBuildWorkerConfig(), tracing: tracingFromEnv(SERVICE_NAMES.buildWorker) });

runWorkerProcess('build worker', loadConfig, async (connection, temporal, config) => {
  await claimProcessGroups('build worker', config.runDir, config.taskQueue);
  const worker = await createBuildWorker({ connection, temporal, config, tracing: config.tracing });
  const names = Object.keys(config.builds.workspaces).join(', ');
  return { worker, banner: `task queue "${config.taskQueue}", ${config.slots} slot(s), workspaces: ${names}` };
});
