/** Entry of the build worker process: the `build` task queue, `BUILD_SLOTS` builds at a time. */
import { loadBuildWorkerConfig } from './build-config';
import { createBuildWorker } from './build-worker';
import { claimProcessGroups } from './process-groups';
import { runWorkerProcess } from './run-worker-process';

runWorkerProcess('build worker', loadBuildWorkerConfig, async (connection, temporal, config) => {
  await claimProcessGroups('build worker', config.runDir, config.taskQueue);
  const worker = await createBuildWorker({ connection, temporal, config });
  const names = Object.keys(config.builds.workspaces).join(', ');
  return { worker, banner: `task queue "${config.taskQueue}", ${config.slots} slot(s), workspaces: ${names}` };
});
