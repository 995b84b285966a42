import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { TemporalConfig } from '../../temporal/config';

/** How a worker under test reaches the test server, polling `taskQueue`. */
export function testTemporalConfig(env: TestWorkflowEnvironment, taskQueue: string): TemporalConfig {
  return { address: env.address, namespace: env.namespace ?? 'default', uiUrl: 'http://127.0.0.1:8233', taskQueue };
}

/** Runs `worker` in this process; the returned function shuts it down and waits for it to finish. */
export function runInProcess(worker: Worker): () => Promise<void> {
  const running = worker.run();
  return async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  };
}
