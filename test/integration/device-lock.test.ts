/**
 * The device lock and the device queue's guarantees beyond the happy path: a second worker for
 * the same board started by mistake (uploads still take turns), the OS port lock as the last line
 * of defence, a waiter that is cancelled leaves the queue, and the lock continues as new without
 * losing state or reusing a token, its history and a run's replaying cleanly against today's code.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { deviceLock } from '../../workflows/device-lock';
import type { Spec } from '../../workflows/contracts/spec';
import {
  DEVICE_LOCK_WORKFLOW,
  deviceAcquireUpdate,
  deviceLockWithdrawSignal,
  deviceLockWorkflowId,
  deviceQueueQuery,
  deviceTaskQueue,
  type DeviceUploadResult,
} from '../../workflows/contracts/device';
import { SerialLink } from '../../activities/device/serial-link';
import { useDeviceBed } from '../fixtures/device/bed';
import { makeImage, uploadIntervals } from '../fixtures/device/harness';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce } from '../helpers/temporal';

let firstLockRunId: string;
const bed = useDeviceBed({
  boards: [
    {
      id: 'k1',
      rig: { blockDelayMs: 2 },
      // Many quick retries: a worker that finds the port locked tries again shortly.
      config: { retry: { maxAttempts: 20, initialInterval: '100ms', backoffCoefficient: 1.5, maxInterval: '500ms' } },
      worker: false,
    },
  ],
  // The lock, started on the device's queue before any worker, continues as new often (the
  // worker then only configures it).
  async setUp({ env, startWorker }) {
    const lock = await env.client.workflow.start<typeof deviceLock>(DEVICE_LOCK_WORKFLOW, {
      workflowId: deviceLockWorkflowId('k1'),
      taskQueue: deviceTaskQueue('k1'),
      args: [{ deviceId: 'k1', maxHistoryEvents: 150 }],
    });
    firstLockRunId = lock.firstExecutionRunId;
    await startWorker();
  },
});

const upload = (i: number, file: string): Spec => ({
  name: `lock-${i}`,
  steps: [{ id: 'upload', kind: 'device_upload', device: 'k1', artifact: file }],
});

test('a second device worker started by mistake cannot upload at the same time', async () => {
  const second = bed.spawnWorker();
  await second.ready;
  const images = Array.from({ length: 12 }, () => makeImage(12 * 1024));
  const skipEvents = bed.rig().events().length;
  const handles = await Promise.all(images.map((img, i) => bed.orch.start(upload(i, img.file))));
  const outputs = (await Promise.all(handles.map((h) => h.result()))).map(
    (r) => r.steps.upload?.output as DeviceUploadResult,
  );

  const events = bed.rig().events().slice(skipEvents);
  const intervals = uploadIntervals(events);
  assert.equal(intervals.length, 12);
  assert.ok(
    intervals.every((u) => u.end !== undefined && !u.interrupted),
    'no upload was cut into by another',
  );
  for (let i = 1; i < intervals.length; i++) assert.ok(intervals[i]!.start > intervals[i - 1]!.end!);
  assert.equal(events.filter((e) => e.event === 'error').length, 0);
  for (const [i, img] of images.entries()) {
    const got = events.find((e) => e.event === 'image' && e.md5 === outputs[i]!.md5);
    assert.ok(got && readFileSync(got.file as string).equals(img.bytes), `image ${i} arrived intact`);
  }
  const retried = outputs.filter((o) => o.attempt > 1).length;
  console.log(
    `two workers on one board: ${retried} of 12 uploads found the port locked by the other worker and retried (the lock grants one at a time)`,
  );
  const exited = new Promise((resolve) => second.child.once('exit', resolve));
  second.child.kill('SIGTERM');
  await exited;
});

test('the OS port lock is the last line of defence: an upload finding the port taken retries until it is free', async () => {
  // Another opener of the port (as a stray tool would be) holds its lock while the run has the device's grant.
  const squatter = await SerialLink.open(bed.rig().devicePath, 115200);
  const run = await bed.orch.start(upload(200, makeImage(4096).file)).catch(async (err: unknown) => {
    await squatter.close();
    throw err;
  });
  try {
    const refused = await waitFor('the upload to find the port locked', async () => {
      const pending = (await run.describe()).raw.pendingActivities?.find(
        (a) => a.activityType?.name === 'deviceUpload',
      );
      return (pending?.attempt ?? 0) >= 2 ? pending : undefined;
    });
    assert.match(String(refused.lastFailure?.message), /serial port .* is locked by another process/);
  } finally {
    await squatter.close();
  }
  const result = await run.result();
  assert.equal(result.steps.upload?.status, 'completed');
  assert.ok((result.steps.upload?.output as DeviceUploadResult).attempt >= 2, 'uploaded once the port was free');
});

test('a run cancelled while waiting for the device leaves the queue', async () => {
  const holdSpec: Spec = {
    name: 'holder',
    steps: [
      { id: 'flash', kind: 'device_session', device: 'k1', steps: [{ id: 'hold', kind: 'sleep', duration: '3s' }] },
    ],
  };
  const holder = await bed.orch.start(holdSpec);
  await waitFor('the session to hold the device', async () =>
    (await holder.query(deviceQueueQuery)).some((w) => w.state === 'holding'),
  );
  const waiter = await bed.orch.start({ ...holdSpec, name: 'waiter' });
  await waitFor('the waiter to queue', async () =>
    (await bed.lockView()).waiting.some((w) => w.workflowId === waiter.workflowId),
  );
  await waiter.cancel();
  await waitFor('the waiter to leave the queue', async () => (await bed.lockView()).waiting.length === 0);
  await holder.result();
  await waitFor('the device to be free', async () => (await bed.lockView()).holder === undefined);
});

test('a request given up after its grant frees the device; one given up before it arrives is refused', async () => {
  await waitFor('no holder', async () => (await bed.lockView()).holder === undefined);
  const lock = bed.lock();
  const ask = (requestId: string) =>
    lock.executeUpdate(deviceAcquireUpdate, { args: [{ requestId, workflowId: 'by-hand', stepPath: 'step' }] });
  const first = await ask('given-up-after-grant');
  assert.ok('grant' in first, 'the free device is granted at once');
  assert.equal((await bed.lockView()).holder?.requestId, 'given-up-after-grant');
  // The activity that asked was cancelled as the grant came back: it withdraws, and nobody will act on the grant.
  await lock.signal(deviceLockWithdrawSignal, { requestId: 'given-up-after-grant' });
  await waitFor('the device to be free again', async () => (await bed.lockView()).holder === undefined);

  // A request that gave up before the lock took it (no worker within the pickup timeout) is refused if it arrives after.
  await lock.signal(deviceLockWithdrawSignal, { requestId: 'given-up-before', refuseLater: true });
  await assert.rejects(
    ask('given-up-before'),
    (err: unknown) =>
      err instanceof WorkflowUpdateFailedError && /given up before it arrived/.test(String(err.cause?.message)),
  );
  assert.equal((await bed.lockView()).holder, undefined);
});

test('the lock continues as new without losing its counts or reusing a token; histories replay', async () => {
  const lock = bed.lock();
  const before = await bed.lockView();
  const handles = await Promise.all(
    Array.from({ length: 10 }, (_, i) => bed.orch.start(upload(100 + i, makeImage(4096).file))),
  );
  await Promise.all(handles.map((h) => h.result()));
  const session = await bed.orch.start({
    name: 'after-can',
    steps: [
      {
        id: 'flash',
        kind: 'device_session',
        device: 'k1',
        steps: [{ id: 'v', kind: 'device_command', send: 'version', expect: '^FW ' }],
      },
    ],
  });
  await session.result();

  const describe = await lock.describe();
  assert.notEqual(describe.runId, firstLockRunId, 'the lock continued as new');
  const after = await bed.lockView();
  assert.equal(after.stats.uploads, before.stats.uploads + 10, 'upload counts carried over');
  assert.ok(after.nextToken > before.nextToken, 'tokens kept growing');
  assert.ok(after.settings, 'settings carried over');

  // Today's workflow code replays what it recorded: the lock's first run and a run with a session.
  const bundle = await bundleWorkflowsOnce();
  const histories = [
    {
      workflowId: lock.workflowId,
      history: await bed.env.client.workflow.getHandle(lock.workflowId, firstLockRunId).fetchHistory(),
    },
    { workflowId: session.workflowId, history: await session.fetchHistory() },
    { workflowId: handles[0]!.workflowId, history: await handles[0]!.fetchHistory() },
  ];
  for (const h of histories) await Worker.runReplayHistory({ workflowBundle: bundle }, h.history, h.workflowId);
});
