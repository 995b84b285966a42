/**
 * Decisions are taken exactly once, against a real Temporal dev server: of concurrent decisions on
 * one step the `approve` update's validator accepts the first and refuses the rest as AlreadyDecided
 * (naming who decided and when), even when all of them reach the workflow in one workflow task; a
 * retried request with the same update id gets the first answer back (Temporal dedups by update id).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import {
  approveUpdate,
  progressQuery,
  RUN_SPEC_WORKFLOW,
  type ApprovalInput,
  type ApprovalResult,
  type RunInput,
  type RunResult,
} from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { failureChain } from '../helpers/failures';
import { waitFor } from '../helpers/journal';
import { acceptedUpdates, workflowTaskFailures } from '../helpers/run-history';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess } from '../helpers/worker';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await createTestEnv();
});

after(async () => {
  await env?.teardown();
});

type Handle = WorkflowHandle<(i: RunInput) => Promise<RunResult>>;

/**
 * A worker with no workflow cache: once it stops, the run's next workflow task goes to whichever
 * worker polls the task queue next, carrying every update that arrived meanwhile.
 */
async function startWorker(taskQueue: string): Promise<() => Promise<void>> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    workflowBundle: await bundleWorkflowsOnce(),
    maxCachedWorkflows: 0,
  });
  return runInProcess(worker);
}

/** A second approval keeps the run open after the first is decided, so later decisions reach it. */
const gate: Spec = {
  name: 'gate',
  steps: [
    { id: 'approve', kind: 'approval', timeout: '1h' },
    { id: 'release', kind: 'approval', timeout: '1h' },
  ],
  output: { by: '${steps.approve.output.by}', comment: "${steps.approve.output.comment ?? ''}" },
};

async function startGate(taskQueue: string): Promise<Handle> {
  const handle = await env.client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
    taskQueue,
    workflowId: `gate-${randomUUID()}`,
    args: [{ spec: gate }],
  });
  await waitFor(
    'the approval to be pending',
    async () => (await handle.query(progressQuery)).pendingApprovals.some((a) => a.stepId === 'approve') || undefined,
  );
  return handle;
}

const decide = (handle: Handle, body: Omit<ApprovalInput, 'stepId'>, updateId: string = randomUUID()) =>
  handle.executeUpdate(approveUpdate, { args: [{ stepId: 'approve', ...body }], updateId });

/** Waits for the `release` approval (the run is past `approve`), approves it and returns the result. */
async function finish(handle: Handle): Promise<RunResult> {
  await waitFor(
    'release to be pending',
    async () => (await handle.query(progressQuery)).pendingApprovals.some((a) => a.stepId === 'release') || undefined,
  );
  await handle.executeUpdate(approveUpdate, { args: [{ stepId: 'release', decision: 'approve', by: 'ops' }] });
  return handle.result();
}

/** The AlreadyDecided failure an update was refused with. */
function alreadyDecided(err: unknown): ApplicationFailure {
  assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
  assert.equal(err.cause.type, 'AlreadyDecided');
  return err.cause;
}

describe('decisions are taken exactly once', () => {
  test('three decisions arriving in one workflow task: one accepted, two refused as AlreadyDecided', async () => {
    const taskQueue = `once-${randomUUID()}`;
    const stopFirst = await startWorker(taskQueue);
    const handle = await startGate(taskQueue);
    // With no worker polling, the three updates wait on the server and reach the next worker together.
    await stopFirst();
    const bodies = [
      { decision: 'approve' as const, by: 'ann', comment: 'ship it' },
      { decision: 'reject' as const, by: 'bob', comment: 'not yet' },
      { decision: 'approve' as const, by: 'cy' },
    ];
    const settled = Promise.allSettled(bodies.map((b) => decide(handle, b)));
    // Lets the three requests reach the server first; they are answered whatever the order.
    await delay(1000);
    const stopSecond = await startWorker(taskQueue);
    try {
      const outcomes = await settled;
      const accepted = outcomes.filter((o): o is PromiseFulfilledResult<ApprovalResult> => o.status === 'fulfilled');
      assert.equal(accepted.length, 1, JSON.stringify(outcomes.map((o) => o.status)));
      const winner = accepted[0]!.value;
      assert.ok(bodies.some((b) => b.by === winner.by && b.decision === winner.decision));
      for (const o of outcomes) {
        if (o.status === 'fulfilled') continue;
        const refusal = alreadyDecided(o.reason);
        assert.equal(
          refusal.message,
          `step "approve" was already decided: ${winner.decision} by ${winner.by} at ${winner.at}`,
        );
        assert.deepEqual(refusal.details, [
          { stepId: 'approve', decision: winner.decision, by: winner.by, at: winner.at },
        ]);
      }
      if (winner.decision === 'approve') assert.equal(((await finish(handle)).output as { by: string }).by, winner.by);
      else await assert.rejects(handle.result(), (err) => /rejected by bob: not yet/.test(failureChain(err)));
      assert.equal(await acceptedUpdates(handle), winner.decision === 'approve' ? 2 : 1);
      assert.deepEqual(await workflowTaskFailures(handle), []);
    } finally {
      await stopSecond();
    }
  });

  test('concurrent decisions on a running worker: exactly one accepted; a decision after the step is refused too', async () => {
    const taskQueue = `once-${randomUUID()}`;
    const stop = await startWorker(taskQueue);
    try {
      const handle = await startGate(taskQueue);
      const outcomes = await Promise.allSettled(
        ['ann', 'bob', 'cy'].map((by) => decide(handle, { decision: 'approve', by })),
      );
      const accepted = outcomes.filter((o): o is PromiseFulfilledResult<ApprovalResult> => o.status === 'fulfilled');
      assert.equal(accepted.length, 1);
      const winner = accepted[0]!.value;
      for (const o of outcomes) if (o.status === 'rejected') alreadyDecided(o.reason);
      // Past the step, a decision on it is still refused with the one that was taken.
      await waitFor(
        'release to be pending',
        async () =>
          (await handle.query(progressQuery)).pendingApprovals.some((a) => a.stepId === 'release') || undefined,
      );
      const late = await decide(handle, { decision: 'reject', by: 'dan' }).then(
        () => assert.fail('a decision on a finished step was accepted'),
        (err: unknown) => alreadyDecided(err),
      );
      assert.deepEqual(late.details, [{ stepId: 'approve', decision: 'approve', by: winner.by, at: winner.at }]);
      assert.deepEqual((await finish(handle)).output, { by: winner.by, comment: '' });
      assert.equal(await acceptedUpdates(handle), 2);
    } finally {
      await stop();
    }
  });

  test('the same update id sent twice returns the first answer; the run records one decision', async () => {
    const taskQueue = `once-${randomUUID()}`;
    const stop = await startWorker(taskQueue);
    try {
      const handle = await startGate(taskQueue);
      const updateId = `idem-${randomUUID()}`;
      const first = await decide(handle, { decision: 'approve', by: 'ann', comment: 'first' }, updateId);
      const again = await decide(handle, { decision: 'reject', by: 'mallory', comment: 'second' }, updateId);
      assert.deepEqual(again, first);
      assert.equal(first.by, 'ann');
      const other = await decide(handle, { decision: 'reject', by: 'bob' }).then(
        () => assert.fail('a second decision was accepted'),
        (err: unknown) => alreadyDecided(err),
      );
      assert.match(other.message, /already decided: approve by ann at /);
      assert.deepEqual((await finish(handle)).output, { by: 'ann', comment: 'first' });
      assert.equal(await acceptedUpdates(handle), 2);
    } finally {
      await stop();
    }
  });
});
