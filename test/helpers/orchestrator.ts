import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { RUN_SPEC_WORKFLOW, SPEC_NAME_ATTRIBUTE, type RunInput, type RunResult } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { activities as testActivities } from '../fixtures/test-activities';
import { bundleWorkflowsOnce, createTestEnv } from './temporal';
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

/**
 * The usual set-up of a test file: one dev server and one orchestrator for all its tests, started
 * before them and stopped after. The returned object reaches the orchestrator once it has started.
 */
export function useOrchestrator(): Orchestrator {
  let orch: Orchestrator | undefined;
  let env: TestWorkflowEnvironment | undefined;
  before(async () => {
    env = await createTestEnv();
    orch = await startOrchestrator(env);
  });
  after(async () => {
    await orch?.stop();
    await env?.teardown();
  });
  const started = (): Orchestrator => {
    if (!orch) throw new Error('the orchestrator is used before its before() hook ran');
    return orch;
  };
  return {
    get env() {
      return started().env;
    },
    get worker() {
      return started().worker;
    },
    get taskQueue() {
      return started().taskQueue;
    },
    start: (...args) => started().start(...args),
    stop: () => started().stop(),
  };
}
