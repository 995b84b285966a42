/**
 * Entry of the orchestrator worker process: validates config, connects, runs workflows and the
 * generic activities until SIGINT/SIGTERM, then drains (Worker handles the signals). It is a
 * version of a worker deployment unless WORKER_VERSIONING=off (README, "Upgrade the workers").
 */
import { describeConnection } from '../temporal/connection';
import { ensureSearchAttributes, mayRegisterSearchAttributes } from '../temporal/search-attributes';
import { describeModels } from './describe-models';
import { loadOrchestratorWorkerConfig } from './orchestrator-config';
import { createOrchestratorWorker } from './orchestrator-worker';
import { runWorkerProcess } from './run-worker-process';
import { loadWorkerVersioningConfig } from '../temporal/versioning-config';
import { SERVICE_NAMES, tracingFromEnv } from '../temporal/tracing';

const loadConfig = () => ({
  ...loadOrchestratorWorkerConfig(),
  versioning: loadWorkerVersioningConfig(),
  tracing: tracingFromEnv(SERVICE_NAMES.orchestratorWorker),
});

runWorkerProcess('orchestrator worker', loadConfig, async (connection, temporal, config) => {
  for (const warning of config.llm?.warnings ?? []) console.warn(`orchestrator worker: ${warning}`);
  // Its runs set them: without them every run would fail, so a missing one stops start-up.
  await ensureSearchAttributes(connection, temporal.namespace, { register: mayRegisterSearchAttributes(temporal) });
  const worker = await createOrchestratorWorker({
    connection,
    temporal,
    config,
    versioning: config.versioning,
    tracing: config.tracing,
  });
  console.log(`orchestrator worker: ${describeModels(config.llm?.config)}`);
  const version = worker.options.workerDeploymentOptions?.version;
  const versioning = version
    ? `worker deployment "${version.deploymentName}", build id "${version.buildId}"`
    : 'unversioned (WORKER_VERSIONING=off)';
  return {
    worker,
    banner: `task queue "${temporal.taskQueue}" on ${describeConnection(temporal)}, ${versioning}`,
  };
});
