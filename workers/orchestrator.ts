/**
 * Entry of the orchestrator worker process: validates config, connects, runs workflows and the
 * generic activities until SIGINT/SIGTERM, then drains (Worker handles the signals).
 */
import { NativeConnection } from '@temporalio/worker';
import { loadTemporalConfig } from '../temporal/config';
import { ensureSearchAttributes } from '../temporal/search-attributes';
import { ConfigError } from './config-errors';
import { loadOrchestratorWorkerConfig } from './orchestrator-config';
import { createOrchestratorWorker } from './orchestrator-worker';

async function main(): Promise<void> {
  const temporal = loadTemporalConfig();
  const config = loadOrchestratorWorkerConfig();
  for (const warning of config.llm?.warnings ?? []) console.warn(`orchestrator worker: ${warning}`);
  const connection = await NativeConnection.connect({ address: temporal.address });
  try {
    await ensureSearchAttributes(connection, temporal.namespace);
    const worker = await createOrchestratorWorker({ connection, temporal, config });
    console.log(
      `orchestrator worker: task queue "${temporal.taskQueue}" on ${temporal.address} (${temporal.namespace})`,
    );
    await worker.run();
    console.log('orchestrator worker: drained and stopped');
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `orchestrator worker refused to start: ${err.message}` : err);
  process.exit(1);
});
