/**
 * For approval tests against a real dev server: an orchestrator worker whose approve-signal token
 * check reads the given environment (a real static tokens file), runs started on its queue, the
 * refusal an update got, the memo upserts a run recorded, and a signal sent with the Temporal CLI.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureTemporalCli } from '../../temporal/cli';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import {
  RUN_SPEC_WORKFLOW,
  SPEC_NAME_ATTRIBUTE,
  type RunInput,
  type RunOptions,
  type RunResult,
} from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { activities as testActivities } from '../fixtures/test-activities';
import { bundleWorkflowsOnce } from './temporal';
import { runInProcess, testDataEnv, testTemporalConfig } from './worker';

export type RunHandle = WorkflowHandle<(i: RunInput) => Promise<RunResult>>;

export interface ApprovalWorker {
  taskQueue: string;
  start(spec: Spec, options?: RunOptions): Promise<RunHandle>;
  stop(): Promise<void>;
}

/** An orchestrator worker on a queue of its own; `identityEnv` is what its token check reads (AUTH_*, APPROVAL_SIGNALS). */
export async function startApprovalWorker(
  env: TestWorkflowEnvironment,
  identityEnv: NodeJS.ProcessEnv,
): Promise<ApprovalWorker> {
  const taskQueue = `approvals-${randomUUID()}`;
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal: testTemporalConfig(env, taskQueue),
    config: loadOrchestratorWorkerConfig(testDataEnv()),
    workflowBundle: await bundleWorkflowsOnce(),
    activities: testActivities,
    identityEnv,
  });
  const stop = runInProcess(worker);
  return {
    taskQueue,
    start: (spec, options) =>
      env.client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
        taskQueue,
        workflowId: `${spec.name}-${randomUUID()}`,
        args: [{ spec, ...(options && { options }) }],
        typedSearchAttributes: [{ key: SPEC_NAME_ATTRIBUTE, value: spec.name }],
      }),
    stop,
  };
}

/** The typed refusal an `approve` update was answered with. */
export function updateRefusal(err: unknown): ApplicationFailure {
  if (!(err instanceof WorkflowUpdateFailedError)) throw err;
  if (!(err.cause instanceof ApplicationFailure)) throw err;
  return err.cause;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export async function historyEvents(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

/** Every memo upsert the run recorded (WorkflowPropertiesModified), decoded, in order. */
export async function memoUpserts(handle: WorkflowHandle): Promise<Array<Record<string, unknown>>> {
  return (await historyEvents(handle))
    .map((e) => e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields)
    .filter((fields): fields is NonNullable<typeof fields> => !!fields)
    .map((fields) =>
      Object.fromEntries(
        Object.entries(fields).map(([key, payload]) => [key, defaultPayloadConverter.fromPayload(payload)]),
      ),
    );
}

/** Sends an `approve` signal with the Temporal CLI, as a person at a terminal would. */
export async function cliSignal(env: TestWorkflowEnvironment, workflowId: string, input: unknown): Promise<string> {
  const cli = await ensureTemporalCli();
  const { stdout } = await promisify(execFile)(cli, [
    'workflow',
    'signal',
    '--address',
    env.address,
    '--namespace',
    env.namespace ?? 'default',
    '--workflow-id',
    workflowId,
    '--name',
    'approve',
    '--input',
    JSON.stringify(input),
  ]);
  return stdout;
}
