/**
 * Waits that last days, tested without waiting: the interpreter (the real workflow bundle) on
 * Temporal's time-skipping test server, where timers fire as soon as nothing else is pending and
 * the server's clock jumps ahead. Workflow time comes from the step records the run returns.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Spec } from '../../workflows/contracts/spec';
import { startOrchestrator, type Orchestrator } from '../helpers/orchestrator';
import { createTimeSkippingEnv } from '../helpers/time-skipping';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

let env: TestWorkflowEnvironment;
let orch: Orchestrator;

before(async () => {
  env = await createTimeSkippingEnv();
  orch = await startOrchestrator(env);
});

after(async () => {
  await orch?.stop();
  await env?.teardown();
});

/** Runs `spec` to its end; returns the result and how far the server's clock and the wall clock moved. */
async function runTimed(spec: Spec) {
  const serverBefore = await env.currentTimeMs();
  const wallBefore = Date.now();
  const result = await (await orch.start(spec)).result();
  const wallMs = Date.now() - wallBefore;
  const serverMs = (await env.currentTimeMs()) - serverBefore;
  console.log(`${spec.name}: workflow clock +${(serverMs / HOUR_MS).toFixed(1)} h in ${wallMs} ms of wall time`);
  return { result, serverMs };
}

function stepSpanMs(step: { startedAt: string; finishedAt?: string } | undefined): number {
  assert.ok(step?.finishedAt, 'the step has finished');
  return Date.parse(step.finishedAt) - Date.parse(step.startedAt);
}

describe('day-long waits on the time-skipping server', () => {
  test('an unanswered 24 h approval takes its default decision', async () => {
    const spec: Spec = {
      name: 'approval-timeout',
      steps: [{ id: 'sign-off', kind: 'approval', prompt: 'Ship it?', timeout: '24h', onTimeout: 'approve' }],
    };
    const { result, serverMs } = await runTimed(spec);
    const step = result.steps['sign-off'];
    assert.equal(step?.status, 'completed');
    assert.deepEqual(
      { ...(step.output as Record<string, unknown>), at: undefined },
      { approved: true, decision: 'approve', by: 'timeout', timedOut: true, at: undefined },
    );
    assert.ok(stepSpanMs(step) >= DAY_MS, `the approval waited ${stepSpanMs(step)} ms of workflow time`);
    assert.ok(serverMs >= DAY_MS);
  });

  test('a 2 d sleep finishes', async () => {
    const spec: Spec = { name: 'two-day-sleep', steps: [{ id: 'cool-down', kind: 'sleep', duration: '2d' }] };
    const { result, serverMs } = await runTimed(spec);
    const step = result.steps['cool-down'];
    assert.equal(step?.status, 'completed');
    assert.deepEqual(step.output, { sleptMs: 2 * DAY_MS });
    assert.ok(stepSpanMs(step) >= 2 * DAY_MS, `the sleep took ${stepSpanMs(step)} ms of workflow time`);
    assert.ok(serverMs >= 2 * DAY_MS);
  });
});
