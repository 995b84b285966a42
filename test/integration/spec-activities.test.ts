/**
 * The `activity` step kind reaches only the worker's spec registry, on a real Temporal dev server:
 * spec activities are scheduled as `spec.<name>`, an unknown name fails the step at once, and an
 * activity step without a retry policy gives up after a bounded number of attempts. The worker's
 * extra activities come from ORCHESTRATOR_ACTIVITY_MODULES, as in production.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { runSpec } from '../../workflows/interpreter';
import { RUN_SPEC_WORKFLOW } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { DEFAULT_ACTIVITY_MAX_ATTEMPTS } from '../../workflows/steps/activity';
import { failureChain } from '../helpers/failures';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess, testTemporalConfig } from '../helpers/worker';

const { EventType } = temporal.api.enums.v1;

let env: TestWorkflowEnvironment;
let stop: (() => Promise<void>) | undefined;
let taskQueue: string;

before(async () => {
  env = await createTestEnv();
  taskQueue = `spec-activities-${randomUUID()}`;
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal: testTemporalConfig(env, taskQueue),
    config: loadOrchestratorWorkerConfig({
      ORCHESTRATOR_ACTIVITY_MODULES: path.join(__dirname, '..', 'fixtures', 'test-activities.ts'),
    }),
    workflowBundle: await bundleWorkflowsOnce(),
  });
  stop = runInProcess(worker);
});
after(async () => {
  await stop?.();
  await env?.teardown();
});

function start(spec: Spec): Promise<WorkflowHandle<typeof runSpec>> {
  return env.client.workflow.start<typeof runSpec>(RUN_SPEC_WORKFLOW, {
    taskQueue,
    workflowId: `${spec.name}-${randomUUID()}`,
    args: [{ spec }],
  });
}

/** The activity types the run scheduled, and the attempt each one ended on. */
async function activityAttempts(handle: WorkflowHandle): Promise<Array<{ type: string; attempt: number }>> {
  const events = (await handle.fetchHistory()).events ?? [];
  const types = new Map<string, string>();
  const out: Array<{ type: string; attempt: number }> = [];
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      types.set(String(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      const a = e.activityTaskStartedEventAttributes;
      out.push({ type: types.get(String(a?.scheduledEventId)) ?? '?', attempt: a?.attempt ?? 0 });
    }
  }
  return out;
}

describe('the activity step kind', () => {
  test("a module's activity is called as spec.<name>", async () => {
    const handle = await start({
      name: 'spec-echo',
      steps: [{ id: 'say', kind: 'activity', activity: 'test.echo', args: { hello: 'world' } }],
    });
    const result = await handle.result();
    assert.deepEqual(result.output, { say: { hello: 'world' } });
    assert.deepEqual(await activityAttempts(handle), [{ type: 'spec.test.echo', attempt: 1 }]);
  });

  test('an activity the worker does not offer to specs fails the step at once, naming it', async () => {
    const handle = await start({
      name: 'spec-unknown',
      steps: [{ id: 'call', kind: 'activity', activity: 'nope', args: {} }],
    });
    await assert.rejects(handle.result(), (err) => {
      assert.match(
        failureChain(err),
        /StepFailed: step "call" failed: .*UnknownActivity: activity "nope" is not one this worker offers to specs \(http, test\.record/s,
      );
      return true;
    });
    assert.deepEqual(await activityAttempts(handle), [{ type: 'spec.nope', attempt: 1 }], 'not retried');
  });

  test('an activity step without a retry policy gives up after a bounded number of attempts', async () => {
    const handle = await start({
      name: 'spec-bounded-retry',
      steps: [
        {
          id: 'flaky',
          kind: 'activity',
          activity: 'test.fail',
          args: { message: 'always', retryable: true },
          // No maxAttempts: the default bounds it.
          retry: { initialInterval: '100ms' },
        },
      ],
    });
    await assert.rejects(handle.result(), (err) => {
      assert.match(failureChain(err), /TestFailure: always/);
      return true;
    });
    assert.deepEqual(await activityAttempts(handle), [
      { type: 'spec.test.fail', attempt: DEFAULT_ACTIVITY_MAX_ATTEMPTS },
    ]);
  });

  test('a local step runs in the worker: no activity task, one workflow task for three steps, a marker each', async () => {
    const say = (id: string) => ({ id, kind: 'activity' as const, activity: 'test.echo', args: { id }, local: true });
    const handle = await start({ name: 'spec-local', steps: [say('one'), say('two'), say('three')] });
    const result = await handle.result();
    assert.deepEqual(result.output, { one: { id: 'one' }, two: { id: 'two' }, three: { id: 'three' } });
    const events = (await handle.fetchHistory()).events ?? [];
    const count = (type: number) => events.filter((e) => e.eventType === type).length;
    assert.equal(count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), 0, 'no activity task');
    assert.equal(count(EventType.EVENT_TYPE_MARKER_RECORDED) >= 3, true, 'each local step is recorded as a marker');
    assert.ok(
      count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) < 4,
      'fewer workflow tasks than one per step (the remote run takes four)',
    );
  });

  test('a local step retries as its policy says, and an unknown local activity fails the step naming it', async () => {
    const flaky = await start({
      name: 'spec-local-retry',
      steps: [
        {
          id: 'flaky',
          kind: 'activity',
          activity: 'test.fail',
          args: { message: 'always', retryable: true },
          retry: { initialInterval: '10ms' },
          local: true,
        },
      ],
    });
    await assert.rejects(flaky.result(), (err) => {
      assert.match(failureChain(err), /step "flaky" failed: .*TestFailure: always/s);
      return true;
    });
    const unknown = await start({
      name: 'spec-local-unknown',
      steps: [{ id: 'call', kind: 'activity', activity: 'nope', local: true }],
    });
    await assert.rejects(unknown.result(), (err) => {
      assert.match(failureChain(err), /UnknownActivity: activity "nope" is not one this worker offers to specs/);
      return true;
    });
  });
});
