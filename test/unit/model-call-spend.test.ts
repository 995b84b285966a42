/**
 * What a failed model call spent, as the workflow reads it from the activity's failure: the
 * details of an ApplicationFailure, or the last heartbeat of an attempt Temporal timed out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { spentBy } from '../../workflows/llm/model-call';

const spent = { inputTokens: 100, outputTokens: 10, costUsd: 0.00012, calls: 1 };
const activityFailure = (cause: Error) =>
  new ActivityFailure('Activity task failed', 'llmChat', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'w', cause);

test('a failure whose details carry usage', () => {
  const failure = ApplicationFailure.create({ type: 'LlmInvalidOutput', message: 'x', details: [{ usage: spent }] });
  assert.deepEqual(spentBy(activityFailure(failure)), spent);
});

test('a timed-out attempt: the usage of its last heartbeat', () => {
  const timeout = new TimeoutFailure('timeout', { provider: 'p', limitedUntil: [], spent }, TimeoutType.START_TO_CLOSE);
  assert.deepEqual(spentBy(activityFailure(timeout)), spent);
});

test('nothing trustworthy: nothing charged', () => {
  const noUsage = ApplicationFailure.create({ type: 'LlmAuthError', message: 'x', details: [{ status: 401 }] });
  assert.equal(spentBy(activityFailure(noUsage)), undefined);
  const bad = ApplicationFailure.create({ message: 'x', details: [{ usage: { inputTokens: -1 } }] });
  assert.equal(spentBy(activityFailure(bad)), undefined);
  assert.equal(spentBy(activityFailure(new TimeoutFailure('t', undefined, TimeoutType.HEARTBEAT))), undefined);
});
