/**
 * Entry of the orchestrator worker process: validates config, connects, runs workflows and the
 * generic activities until SIGINT/SIGTERM, then drains (Worker handles the signals).
 */
import { ensureSearchAttributes } from '../temporal/search-attributes';
import { describeModels } from './describe-models';
import { loadOrchestratorWorkerConfig } from './orchestrator-config';
import { createOrchestratorWorker } from './orchestrator-worker';
import { runWorkerProcess } from './run-worker-process';

runWorkerProcess('orchestrator worker', loadOrchestratorWorkerConfig, async (connection, temporal, config) => {
  for (const warning of config.llm?.warnings ?? []) console.warn(`orchestrator worker: ${warning}`);
  await ensureSearchAttributes(connection, temporal.namespace);
  const worker = await createOrchestratorWorker({ connection, temporal, config });
  console.log(`orchestrator worker: ${describeModels(config.llm?.config)}`);
  return { worker, banner: `task queue "${temporal.taskQueue}" on ${temporal.address} (${temporal.namespace})` };
});
