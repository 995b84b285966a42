/**
 * The `deliverWebhook` workflow on a real dev server and worker, against a real receiver on
 * loopback, where it gives up: a receiver that keeps failing is tried `maxAttempts` times with
 * growing waits, a 410 Gone is not retried; either way the run fails with WebhookDeliveryFailed
 * and its memo records every attempt (what GET /webhooks/:id/deliveries shows).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { WebhookEvent } from '../../workflows/contracts/run-events';
import type { deliverWebhook } from '../../workflows/webhooks/deliver-webhook';
import {
  DELIVER_WEBHOOK_WORKFLOW,
  DELIVERY_FAILED,
  DELIVERY_MEMO,
  retryDelayMs,
  type DeliveryRecord,
} from '../../workflows/contracts/webhooks';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { WebhookReceiver } from '../helpers/webhook-receiver';
import { runInProcess, testTemporalConfig } from '../helpers/worker';

let env: TestWorkflowEnvironment;
let receiver: WebhookReceiver;
let taskQueue: string;
let stop: () => Promise<void>;

before(async () => {
  env = await createTestEnv();
  receiver = await WebhookReceiver.start({ statusFor: (path) => ({ '/gone': 410, '/broken': 500 })[path] });
  taskQueue = `webhook-delivery-${randomUUID()}`;
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal: testTemporalConfig(env, taskQueue),
    config: {
      ...loadOrchestratorWorkerConfig({}),
      webhooks: {
        allowedHosts: [receiver.host],
        signingSecret: randomBytes(32).toString('hex'),
        publicUrl: 'http://127.0.0.1:1',
      },
    },
    workflowBundle: await bundleWorkflowsOnce(),
  });
  stop = runInProcess(worker);
});

after(async () => {
  await stop?.();
  await receiver?.close();
  await env?.teardown();
});

const event: WebhookEvent = { type: 'run.finished', workflowId: 'spec:run-1', at: new Date().toISOString(), data: {} };

async function deliverUntilGivenUp(path: string, retry: { initialIntervalMs?: number; maxAttempts?: number }) {
  const workflowId = `webhook:${randomUUID()}:spec:run-1:run.finished:1`;
  const handle = await env.client.workflow.start<typeof deliverWebhook>(DELIVER_WEBHOOK_WORKFLOW, {
    taskQueue,
    workflowId,
    args: [{ target: { id: 'sub-1', url: receiver.url(path), retry }, event }],
  });
  const err = await handle.result().then(
    () => assert.fail('the delivery should give up'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
  assert.equal(err.cause.type, DELIVERY_FAILED);
  const memo = (await handle.describe()).memo?.[DELIVERY_MEMO] as DeliveryRecord;
  return { workflowId, failure: err.cause, memo };
}

test('a receiver that keeps failing is tried maxAttempts times, then the delivery fails with every attempt recorded', async () => {
  const { workflowId, failure, memo } = await deliverUntilGivenUp('/broken', {
    initialIntervalMs: 100,
    maxAttempts: 3,
  });
  assert.match(failure.message, /3 attempts failed \(last: webhook sub-1: answered 500/);
  assert.equal(memo.status, 'failed');
  assert.equal(memo.attempts, 3);
  assert.deepEqual(
    memo.recent.map((a) => [a.attempt, a.outcome, a.status]),
    [
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'failed', 500],
    ],
  );
  assert.equal(memo.nextAttemptAt, undefined);
  assert.equal(receiver.requests.filter((r) => r.webhookId === workflowId).length, 3);
});

test('410 Gone is not retried', async () => {
  const { workflowId, failure, memo } = await deliverUntilGivenUp('/gone', { initialIntervalMs: 100, maxAttempts: 5 });
  assert.match(failure.message, /refused it for good/);
  assert.equal(memo.attempts, 1);
  assert.equal(memo.recent[0]?.status, 410);
  assert.equal(receiver.requests.filter((r) => r.webhookId === workflowId).length, 1);
});

test('waits start at the initial interval and double, up to an hour', () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => retryDelayMs({ initialIntervalMs: 100 }, n)),
    [100, 200, 400, 800],
  );
  assert.equal(retryDelayMs(undefined, 1), 10_000);
  assert.equal(retryDelayMs(undefined, 20), 60 * 60_000);
});
