import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { RUN_SPEC_WORKFLOW, SPEC_NAME_ATTRIBUTE, type RunInput, type RunResult } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { activities as testActivities } from '../fixtures/test-activities';
import { bundleWorkflowsOnce } from './temporal';
import { runInProcess, testDataEnv, testTemporalConfig } from './worker';

export interface Orchestrator {
  env: TestWorkflowEnvironment;
  worker: Worker;
  taskQueue: string;
  start(
    spec: Spec,
    inputs?: Record<string, unknown>,
    extra?: Partial<RunInput>,
  ): Promise<WorkflowHandle<(i: RunInput) => Promise<RunResult>>>;
  stop(): Promise<void>;
}

/**
 * An in-process orchestrator worker with the test activities, on a task queue of its own (or on
 * `taskQueue`: a test that stops its orchestrator starts another on the same queue).
 */
export async function startOrchestrator(
  env: TestWorkflowEnvironment,
  taskQueue = `test-${randomUUID()}`,
): Promise<Orchestrator> {
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal: testTemporalConfig(env, taskQueue),
    config: loadOrchestratorWorkerConfig(testDataEnv()),
    workflowBundle: await bundleWorkflowsOnce(),
    activities: testActivities,
  });
  const stop = runInProcess(worker);
  return {
    env,
    worker,
    taskQueue,
    start: (spec, inputs = {}, extra = {}) =>
      env.client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
        taskQueue,
        workflowId: `${spec.name}-${randomUUID()}`,
        args: [{ spec, inputs, ...extra }],
        typedSearchAttributes: [{ key: SPEC_NAME_ATTRIBUTE, value: spec.name }],
      }),
    stop,
  };
}
