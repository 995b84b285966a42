/**
 * The device lock and the device queue's guarantees beyond the happy path: a second worker for
 * the same board started by mistake (the OS port lock keeps uploads apart), a waiter that is
 * cancelled leaves the queue, and the lock continues as new without losing state or reusing a
 * token, its history and a run's replaying cleanly against today's code.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { deviceLock } from '../../workflows/device-lock';
import type { Spec } from '../../workflows/contracts/spec';
import {
  DEVICE_LOCK_WORKFLOW,
  deviceLockStateQuery,
  deviceLockWorkflowId,
  deviceQueueQuery,
  type DeviceUploadResult,
} from '../../workflows/contracts/device';
import {
  makeImage,
  simulatedDevice,
  spawnDeviceWorker,
  startDeviceTestBed,
  uploadIntervals,
  writeDevicesConfig,
  type DeviceTestBed,
} from '../fixtures/device/harness';
import type { DeviceRig } from '../fixtures/device/rig';
import { waitFor } from '../helpers/journal';
import type { Orchestrator } from '../helpers/orchestrator';
import { bundleWorkflowsOnce } from '../helpers/temporal';

let bed: DeviceTestBed;
let env: TestWorkflowEnvironment;
let orch: Orchestrator;
let rig: DeviceRig;
let config: string;
let firstLockRunId: string;

before(async () => {
  bed = await startDeviceTestBed({ rig: { blockDelayMs: 2 } });
  ({ env, orch, rig } = bed);
  // Many quick retries: a worker that finds the port locked tries again shortly.
  const retry = { maxAttempts: 20, initialInterval: '100ms', backoffCoefficient: 1.5, maxInterval: '500ms' };
  config = writeDevicesConfig(rig.dir, [simulatedDevice('k1', rig.devicePath, { retry })]);
  // The lock, started before any worker, continues as new often (the worker then only configures it).
  const lock = await env.client.workflow.start<typeof deviceLock>(DEVICE_LOCK_WORKFLOW, {
    workflowId: deviceLockWorkflowId('k1'),
    taskQueue: orch.taskQueue,
    args: [{ deviceId: 'k1', maxHistoryEvents: 150 }],
  });
  firstLockRunId = lock.firstExecutionRunId;
  await bed.startWorker(config, 'k1');
});

after(() => bed?.stop());

const upload = (i: number, file: string): Spec => ({
  name: `lock-${i}`,
  steps: [{ id: 'upload', kind: 'device_upload', device: 'k1', artifact: file }],
});

test('a second device worker started by mistake cannot upload at the same time: the port lock keeps them apart', async () => {
  const second = spawnDeviceWorker(env, orch, config, 'k1');
  await second.ready;
  const images = Array.from({ length: 12 }, () => makeImage(12 * 1024));
  const skipEvents = rig.events().length;
  const handles = await Promise.all(images.map((img, i) => orch.start(upload(i, img.file))));
  const outputs = (await Promise.all(handles.map((h) => h.result()))).map(
    (r) => r.steps.upload?.output as DeviceUploadResult,
  );

  const events = rig.events().slice(skipEvents);
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
    `two workers on one board: ${retried} of 12 uploads found the port locked by the other worker and retried`,
  );
  const exited = new Promise((resolve) => second.child.once('exit', resolve));
  second.child.kill('SIGTERM');
  await exited;
});

test('a run cancelled while waiting for the device leaves the queue', async () => {
  const holdSpec: Spec = {
    name: 'holder',
    steps: [
      { id: 'flash', kind: 'device_session', device: 'k1', steps: [{ id: 'hold', kind: 'sleep', duration: '3s' }] },
    ],
  };
  const holder = await orch.start(holdSpec);
  await waitFor('the session to hold the device', async () =>
    (await holder.query(deviceQueueQuery)).some((w) => w.state === 'holding'),
  );
  const waiter = await orch.start({ ...holdSpec, name: 'waiter' });
  const lock = env.client.workflow.getHandle(deviceLockWorkflowId('k1'));
  await waitFor('the waiter to queue', async () =>
    (await lock.query(deviceLockStateQuery)).waiting.some((w) => w.workflowId === waiter.workflowId),
  );
  await waiter.cancel();
  await waitFor(
    'the waiter to leave the queue',
    async () => (await lock.query(deviceLockStateQuery)).waiting.length === 0,
  );
  await holder.result();
  await waitFor('the device to be free', async () => (await lock.query(deviceLockStateQuery)).holder === undefined);
});

test('the lock continues as new without losing its counts or reusing a token; histories replay', async () => {
  const lock = env.client.workflow.getHandle(deviceLockWorkflowId('k1'));
  const before = await lock.query(deviceLockStateQuery);
  const handles = await Promise.all(
    Array.from({ length: 10 }, (_, i) => orch.start(upload(100 + i, makeImage(4096).file))),
  );
  await Promise.all(handles.map((h) => h.result()));
  const session = await orch.start({
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
  const after = await lock.query(deviceLockStateQuery);
  assert.equal(after.stats.uploads, before.stats.uploads + 10, 'upload counts carried over');
  assert.ok(after.nextToken > before.nextToken, 'tokens kept growing');
  assert.ok(after.settings, 'settings carried over');

  // Today's workflow code replays what it recorded: the lock's first run and a run with a session.
  const bundle = await bundleWorkflowsOnce();
  const histories = [
    {
      workflowId: lock.workflowId,
      history: await env.client.workflow.getHandle(lock.workflowId, firstLockRunId).fetchHistory(),
    },
    { workflowId: session.workflowId, history: await session.fetchHistory() },
    { workflowId: handles[0]!.workflowId, history: await handles[0]!.fetchHistory() },
  ];
  for (const h of histories) await Worker.runReplayHistory({ workflowBundle: bundle }, h.history, h.workflowId);
});
