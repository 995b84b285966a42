/**
 * Device sessions: a run holds the board across several steps (upload, pattern test, metrics)
 * while others wait in line; a holder whose lease ran out cannot act any more, because the
 * device worker checks every action's fencing token against the lock.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { RUN_SPEC_WORKFLOW, type RunInput, type RunResult } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import {
  deviceLockStateQuery,
  deviceLockWorkflowId,
  deviceQueueQuery,
  type DeviceCommandResult,
  type DeviceUploadResult,
} from '../../workflows/contracts/device';
import { activities as testActivities } from '../fixtures/test-activities';
import {
  makeImage,
  simulatedDevice,
  startDeviceTestBed,
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

before(async () => {
  bed = await startDeviceTestBed({ rig: { blockDelayMs: 2 } });
  ({ env, orch, rig } = bed);
  await bed.startWorker(writeDevicesConfig(rig.dir, [simulatedDevice('k1', rig.devicePath)]), 'k1');
});

after(() => bed?.stop());

const lockView = () => env.client.workflow.getHandle(deviceLockWorkflowId('k1')).query(deviceLockStateQuery);

test('a session holds the board for upload, pattern test and metrics; another run waits its turn', async () => {
  const mine = makeImage(24 * 1024);
  const theirs = makeImage(8 * 1024);
  const session: Spec = {
    name: 'pattern-test',
    steps: [
      {
        id: 'flash',
        kind: 'device_session',
        device: 'k1',
        steps: [
          { id: 'upload', kind: 'device_upload', artifact: mine.file },
          { id: 'settle', kind: 'sleep', duration: '3s' },
          {
            id: 'pattern',
            kind: 'device_command',
            send: 'pattern smoke',
            expect: '^PATTERN smoke OK fps=(?<fps>\\d+)',
          },
          { id: 'metrics', kind: 'device_command', send: 'metrics', expect: '^METRICS (?<json>\\{.*\\})$' },
        ],
      },
      { id: 'report', kind: 'activity', activity: 'test.echo', args: { fps: '${steps.pattern.output.groups.fps}' } },
    ],
  };
  const a = await orch.start(session);
  await waitFor('the session to hold the device', async () =>
    (await a.query(deviceQueueQuery)).some((w) => w.state === 'holding'),
  );

  const b = await orch.start({
    name: 'intruder',
    steps: [{ id: 'upload', kind: 'device_upload', device: 'k1', artifact: theirs.file }],
  });
  // B's upload is refused while the session holds the board, so B queues for the device.
  const waiting = await waitFor('the other run to queue', async () =>
    (await b.query(deviceQueueQuery)).find((w) => w.state === 'waiting' && w.position === 1),
  );
  assert.equal(waiting.deviceId, 'k1');
  assert.equal((await lockView()).waiting[0]?.workflowId, b.workflowId);

  const [ra, rb] = await Promise.all([a.result(), b.result()]);
  const up = ra.steps.upload?.output as DeviceUploadResult;
  assert.equal((ra.steps.pattern?.output as DeviceCommandResult).groups.fps, '150');
  assert.match((ra.steps.metrics?.output as DeviceCommandResult).groups.json ?? '', /"firmware":"[0-9a-f]{8}"/);
  assert.deepEqual(ra.steps.report?.output, { fps: '150' });

  // On the board: the session's upload, pattern and metrics, and only then the other upload.
  const seq = rig
    .events()
    .filter((e) => e.event === 'image' || e.event === 'command')
    .map((e) => (e.event === 'image' ? `image:${e.md5}` : `command:${e.line}`));
  const theirsMd5 = (rb.steps.upload?.output as DeviceUploadResult).md5;
  assert.deepEqual(seq.slice(-4), [
    `image:${up.md5}`,
    'command:pattern smoke',
    'command:metrics',
    `image:${theirsMd5}`,
  ]);
});

/** An orchestrator worker on a task queue of our choosing, so it can be stopped and started again. */
async function orchestratorOn(taskQueue: string): Promise<{ worker: Worker; done: Promise<void> }> {
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal: { address: env.address, namespace: 'default', uiUrl: 'http://127.0.0.1:8233', taskQueue },
    config: loadOrchestratorWorkerConfig({}),
    workflowBundle: await bundleWorkflowsOnce(),
    activities: testActivities,
  });
  return { worker, done: worker.run() };
}

test('a holder whose lease expired cannot act: its next device action is refused by the fencing token', async () => {
  const holderQueue = `holder-${randomUUID()}`;
  let holderWorker = await orchestratorOn(holderQueue);
  const spec: Spec = {
    name: 'stale-holder',
    steps: [
      {
        id: 'flash',
        kind: 'device_session',
        device: 'k1',
        lease: '2s',
        steps: [
          { id: 'first', kind: 'device_command', send: 'version', expect: '^FW ' },
          { id: 'think', kind: 'sleep', duration: '3s' },
          { id: 'second', kind: 'device_command', send: 'pattern stale', expect: '^PATTERN' },
        ],
      },
    ],
  };
  const holder = await env.client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
    taskQueue: holderQueue,
    workflowId: `stale-holder-${randomUUID()}`,
    args: [{ spec }],
  });
  await waitFor('the holder to use the board', () =>
    rig.events().some((e) => e.event === 'command' && e.line === 'version'),
  );
  const token = (await lockView()).holder?.token;
  assert.ok(token);

  // The holder's workers go away: nobody renews its lease, so the lock hands the board on.
  holderWorker.worker.shutdown();
  await holderWorker.done;
  const other = await orch.start({
    name: 'next-in-line',
    steps: [{ id: 'upload', kind: 'device_upload', device: 'k1', artifact: makeImage(4096).file }],
  });
  const otherResult = await other.result();
  assert.equal(otherResult.steps.upload?.status, 'completed');
  const view = await lockView();
  assert.ok(view.stats.leasesExpired >= 1);
  assert.ok(view.nextToken > token + 1, 'a newer token was granted');

  // The holder comes back, unaware; its next action carries the stale token.
  holderWorker = await orchestratorOn(holderQueue);
  try {
    await assert.rejects(holder.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(String(err.cause?.message), /fencing token \d+ (does not hold device "k1"|is older than token \d+)/);
      return true;
    });
  } finally {
    holderWorker.worker.shutdown();
    await holderWorker.done;
  }
  assert.ok(
    !rig.events().some((e) => e.event === 'command' && e.line === 'pattern stale'),
    'the stale holder never reached the board',
  );
});
