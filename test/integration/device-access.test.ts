/**
 * One way to reach a device (issue 11): every lone action and every session joins the device's
 * lock in arrival order, its place in line visible in the lock and in the waiting run's
 * acquireDevice heartbeat; the lock runs on the device's own task queue, so a board is flashed
 * while the orchestrator worker is down; a device with a lock but no worker counts as offline
 * after its pickup timeout. (Sessions over several devices: device-sessions-order.test.ts.)
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import {
  type AcquireWaitProgress,
  type DeviceCommandResult,
  type DeviceUploadResult,
} from '../../workflows/contracts/device';
import { approveUpdate, progressQuery } from '../../workflows/contracts/run';
import { type Spec, type Step } from '../../workflows/contracts/spec';
import { useDeviceBed } from '../fixtures/device/bed';
import { makeImage, pendingHeartbeat } from '../fixtures/device/harness';
import { newJournal, waitFor } from '../helpers/journal';
import { startOrchestrator, type Orchestrator } from '../helpers/orchestrator';

type RunHandle = Awaited<ReturnType<Orchestrator['start']>>;

const bed = useDeviceBed({
  boards: [
    { id: 'k1' },
    // Slow to flash: an upload lasts long enough to stop the orchestrator in the middle of it.
    { id: 'slow', rig: { blockDelayMs: 25 } },
    // Its worker is started by the test; requests give up after 2 s without one.
    { id: 'late', worker: false, config: { pickupTimeout: '2s' } },
  ],
});

/** What a board did, in order: images it verified and console commands it answered. */
function boardLog(id: string): string[] {
  return bed
    .rig(id)
    .events()
    .filter((e) => e.event === 'image' || e.event === 'command')
    .map((e) => (e.event === 'image' ? `image:${String(e.md5)}` : `command:${String(e.line)}`));
}

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

const command = (id: string, send: string, device?: string): Step => ({
  id,
  kind: 'device_command',
  ...(device && { device }),
  send,
  expect: `^PATTERN ${send.split(' ')[1]} OK`,
});

async function activityTypesScheduled(run: RunHandle): Promise<string[]> {
  const { events } = await run.fetchHistory();
  return (events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

test('lone actions and sessions are served in arrival order, their places shown by the lock and the heartbeat', async () => {
  const journal = newJournal();
  // S1 holds k1 until this test cancels it: everyone else has to line up behind it.
  const s1 = await bed.orch.start({
    name: 'order-s1',
    steps: [
      {
        id: 'session',
        kind: 'device_session',
        device: 'k1',
        steps: [
          command('hello', 'pattern s1'),
          { id: 'hold', kind: 'activity', activity: 'test.waitForCancel', args: { journal, label: 's1' } },
        ],
      },
    ],
  });
  await waitFor('S1 to use the board', () => boardLog('k1').includes('command:pattern s1'));
  assert.equal((await bed.lockView('k1')).holder?.workflowId, s1.workflowId);

  const first = makeImage(4096);
  const last = makeImage(4096);
  const arrivals: Array<{ name: string; spec: Spec }> = [
    {
      name: 'U1',
      spec: { name: 'order-u1', steps: [{ id: 'upload', kind: 'device_upload', device: 'k1', artifact: first.file }] },
    },
    {
      name: 'S2',
      spec: {
        name: 'order-s2',
        steps: [{ id: 'session', kind: 'device_session', device: 'k1', steps: [command('smoke', 'pattern s2')] }],
      },
    },
    { name: 'C1', spec: { name: 'order-c1', steps: [command('poke', 'pattern c1', 'k1')] } },
    {
      name: 'U2',
      spec: { name: 'order-u2', steps: [{ id: 'upload', kind: 'device_upload', device: 'k1', artifact: last.file }] },
    },
  ];
  const runs: RunHandle[] = [];
  try {
    for (const { name, spec } of arrivals) {
      const run = await bed.orch.start(spec);
      await waitFor(`${name} to join the line of k1`, async () =>
        (await bed.lockView('k1')).waiting.some((w) => w.workflowId === run.workflowId),
      );
      runs.push(run);
    }

    const view = await bed.lockView('k1');
    assert.equal(view.holder?.workflowId, s1.workflowId, 'S1 still holds the board');
    assert.deepEqual(
      view.waiting.map((w) => [w.position, w.workflowId, w.stepPath]),
      [
        [1, runs[0]!.workflowId, 'upload'],
        [2, runs[1]!.workflowId, 'session'],
        [3, runs[2]!.workflowId, 'poke'],
        [4, runs[3]!.workflowId, 'upload'],
      ],
    );
    // Each waiting run shows its own place in its acquireDevice activity's heartbeat.
    for (const [i, run] of runs.entries()) {
      const beat = await waitFor(
        `${arrivals[i]!.name}'s heartbeat to show its place`,
        async () => {
          const b = await pendingHeartbeat<AcquireWaitProgress>(run, 'acquireDevice');
          return b && b.position > 0 ? b : undefined;
        },
        60_000,
      );
      assert.equal(beat.deviceId, 'k1');
      assert.equal(beat.position, i + 1, arrivals[i]!.name);
      // The line's length as it was when the request last heard from the lock: at least up to itself.
      assert.ok(beat.waiting >= i + 1, `${arrivals[i]!.name}: ${JSON.stringify(beat)}`);
    }
  } finally {
    // S1 lets go of k1 (also when an assertion above failed, so the tests after get the board).
    await s1.cancel();
  }
  await assert.rejects(s1.result(), WorkflowFailedError);
  const [u1, s2, c1, u2] = await Promise.all(runs.map((r) => r.result()));
  assert.equal((u1!.steps.upload?.output as DeviceUploadResult).md5, md5(first.bytes));
  assert.equal((s2!.steps.smoke?.output as DeviceCommandResult).line, 'PATTERN s2 OK fps=150');
  assert.equal((c1!.steps.poke?.output as DeviceCommandResult).line, 'PATTERN c1 OK fps=150');
  assert.equal((u2!.steps.upload?.output as DeviceUploadResult).md5, md5(last.bytes));

  // The board saw S1's command, then the others' actions exactly in the order they arrived.
  const log = boardLog('k1');
  assert.deepEqual(log.slice(log.indexOf('command:pattern s1')), [
    'command:pattern s1',
    `image:${md5(first.bytes)}`,
    'command:pattern s2',
    'command:pattern c1',
    `image:${md5(last.bytes)}`,
  ]);
  assert.equal((await bed.lockView('k1')).holder, undefined);
});

test('a board is flashed to the end while the orchestrator worker is stopped', async () => {
  const taskQueue = `flash-alone-${randomUUID()}`;
  let orch = await startOrchestrator(bed.env, taskQueue);
  const image = makeImage(512 * 1024);
  const board = (event: string) =>
    bed
      .rig('slow')
      .events()
      .filter((e) => e.event === event);
  let run: RunHandle;
  try {
    run = await orch.start({
      name: 'flash-alone',
      steps: [{ id: 'upload', kind: 'device_upload', device: 'slow', artifact: image.file }],
    });
    await waitFor('the board to start receiving the image', () => board('upload_start').length > 0);
  } finally {
    await orch.stop();
  }
  assert.ok(board('upload_end').length === 0, 'the upload was still going when the orchestrator worker stopped');

  // Nothing serves the run's queue now; the device worker serves the lock and the upload.
  assert.equal((await bed.lock('slow').describe()).taskQueue, 'device-upload.slow');
  await waitFor(
    'the board to finish the upload with the orchestrator down',
    () => board('image').find((e) => e.md5 === md5(image.bytes)),
    60_000,
  );
  assert.equal(board('upload_end').length, 1);
  assert.equal(board('upload_interrupted').length, 0);
  // The run still holds the device (its release comes from the orchestrator), and it was never refused.
  const held = await bed.lockView('slow');
  assert.equal(held.holder?.workflowId, run.workflowId);
  assert.equal(held.stats.failed, 0);

  orch = await startOrchestrator(bed.env, taskQueue);
  try {
    const result = await run.result();
    const out = result.steps.upload?.output as DeviceUploadResult;
    assert.equal(result.steps.upload?.status, 'completed');
    assert.equal(out.md5, md5(image.bytes));
    assert.equal(out.bytes, image.bytes.length);
    assert.equal(out.attempt, 1, 'the first attempt went through: the fence answered while the orchestrator was down');
    const after = await bed.lockView('slow');
    assert.equal(after.holder, undefined, 'the hold was released once the run went on');
    assert.equal(after.lastResult?.workflowId, run.workflowId);
    assert.equal(after.lastResult?.status, 'completed');
  } finally {
    await orch.stop();
  }
});

test('a device whose worker is down: the request gives up after the pickup timeout, escalates, and retry completes', async () => {
  // The lock exists once the device's worker has started; then the worker goes away.
  const first = await bed.startWorker('late');
  await waitFor('the lock to take its settings from the worker', async () => (await bed.lockView('late')).settings);
  await first.stop();

  const run = await bed.orch.start({ name: 'no-worker', steps: [command('ask', 'pattern late', 'late')] });
  const pending = await waitFor('the escalation', async () =>
    (await run.query(progressQuery)).pendingApprovals.find((p) => p.stepId === 'ask'),
  );
  assert.deepEqual(pending.choices, ['retry', 'skip', 'abort']);
  assert.match(
    pending.prompt ?? '',
    /Device "late" is offline: .*no worker of device "late" took the request within 2000 ms/,
  );

  await bed.startWorker('late');
  await run.executeUpdate(approveUpdate, {
    args: [{ stepId: 'ask', decision: 'approve', choice: 'retry', by: 'ops', comment: 'worker restarted' }],
  });
  const result = await run.result();
  assert.equal(result.steps.ask?.status, 'completed');
  assert.equal((result.steps.ask?.output as DeviceCommandResult).line, 'PATTERN late OK fps=150');
  // The request that gave up, then the retry's, then the command itself: the run never went to the board without the lock.
  assert.deepEqual(
    (await activityTypesScheduled(run)).filter((t) => /^(acquireDevice|device)/.test(t)),
    ['acquireDevice', 'acquireDevice', 'deviceCommand'],
  );
  const view = await bed.lockView('late');
  assert.equal(view.holder, undefined);
  assert.equal(view.stats.grants, 1, 'the request that gave up was never granted; only the retry was');
  assert.equal(view.stats.leasesExpired, 0);
});
