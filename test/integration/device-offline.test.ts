/**
 * An unplugged board: the upload is retried (3 attempts, short backoff here), then the step is
 * SKIPPED rather than FAILED and the run asks a human to retry, skip or abort. Plugging the
 * board back in and choosing retry uploads the image.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { approveUpdate, progressQuery, type RunProgress } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { deviceLockStateQuery, deviceLockWorkflowId, type DeviceUploadResult } from '../../workflows/contracts/device';
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

let bed: DeviceTestBed;
let env: TestWorkflowEnvironment;
let orch: Orchestrator;
let rig: DeviceRig;

before(async () => {
  bed = await startDeviceTestBed({ unplugged: true });
  ({ env, orch, rig } = bed);
  await bed.startWorker(writeDevicesConfig(rig.dir, [simulatedDevice('k1', rig.devicePath)]), 'k1');
});

after(() => bed?.stop());

function uploadThenReport(artifact: string): Spec {
  return {
    name: 'offline-upload',
    steps: [
      { id: 'upload', kind: 'device_upload', device: 'k1', artifact },
      { id: 'after', kind: 'activity', activity: 'test.echo', args: { uploadStatus: '${steps.upload.status}' } },
    ],
  };
}

async function escalated(handle: Awaited<ReturnType<Orchestrator['start']>>): Promise<RunProgress> {
  return waitFor('the escalation approval', async () => {
    const p = await handle.query(progressQuery);
    return p.pendingApprovals.some((a) => a.stepId === 'upload') ? p : undefined;
  });
}

test('offline after 3 attempts → SKIPPED, escalated; retry after the board returns uploads it', async () => {
  const image = makeImage(12_000);
  const handle = await orch.start(uploadThenReport(image.file));
  const progress = await escalated(handle);
  const pending = progress.pendingApprovals.find((a) => a.stepId === 'upload');
  assert.deepEqual(pending?.choices, ['retry', 'skip', 'abort']);
  assert.match(
    pending?.prompt ?? '',
    /Device "k1" is offline: cannot open serial port .* after 3 attempt\(s\)\. The upload of .* was skipped/,
  );

  // The attempt ended SKIPPED in the device's record, not FAILED.
  const lock = await env.client.workflow.getHandle(deviceLockWorkflowId('k1')).query(deviceLockStateQuery);
  assert.equal(lock.lastResult?.status, 'skipped');
  assert.equal(lock.stats.failed, 0);
  assert.equal(lock.holder, undefined, 'nobody holds the device while a human decides');
  const attempts = (await handle.fetchHistory()).events
    ?.filter((e) => e.activityTaskStartedEventAttributes)
    .map((e) => e.activityTaskStartedEventAttributes?.attempt);
  assert.deepEqual(attempts, [3], 'one activity, started for the 3rd time when it gave up');

  await rig.start();
  await handle.executeUpdate(approveUpdate, {
    args: [{ stepId: 'upload', decision: 'approve', choice: 'retry', by: 'ops', comment: 'board plugged back in' }],
  });
  const result = await handle.result();
  assert.equal(result.steps.upload?.status, 'completed');
  const out = result.steps.upload?.output as DeviceUploadResult;
  const received = rig.events().find((e) => e.event === 'image' && e.md5 === out.md5);
  assert.ok(received && readFileSync(received.file as string).equals(image.bytes), 'the board holds the image');
  assert.deepEqual(result.output, { upload: out, after: { uploadStatus: 'completed' } });
  await rig.stop();
});

test('choosing skip leaves the step SKIPPED and the run goes on; abort fails the run', async () => {
  const skipped = await orch.start(uploadThenReport(makeImage(4096).file));
  await escalated(skipped);
  await skipped.executeUpdate(approveUpdate, {
    args: [{ stepId: 'upload', decision: 'reject', choice: 'skip', by: 'ops' }],
  });
  const result = await skipped.result();
  assert.equal(result.steps.upload?.status, 'skipped');
  assert.match(String((result.steps.upload?.output as { reason: string }).reason), /device "k1" offline/);
  assert.deepEqual(result.steps.after?.output, { uploadStatus: 'skipped' });

  const aborted = await orch.start(uploadThenReport(makeImage(4096).file));
  await escalated(aborted);
  await assert.rejects(
    aborted.executeUpdate(approveUpdate, {
      args: [{ stepId: 'upload', decision: 'reject', choice: 'later', by: 'ops' }],
    }),
    (err: unknown) =>
      err instanceof WorkflowUpdateFailedError &&
      /choice must be one of: retry, skip, abort/.test(String(err.cause?.message)),
  );
  await aborted.executeUpdate(approveUpdate, {
    args: [{ stepId: 'upload', decision: 'reject', choice: 'abort', by: 'ops' }],
  });
  await assert.rejects(
    aborted.result(),
    (err: unknown) => err instanceof WorkflowFailedError && /aborted by ops/.test(String(err.cause?.message)),
  );
});

test('a device nobody serves (no lock workflow) escalates the same way', async () => {
  const handle = await orch.start({
    name: 'ghost',
    steps: [{ id: 'upload', kind: 'device_upload', device: 'ghost', artifact: '/tmp/fw.bin' }],
  });
  const progress = await escalated(handle);
  assert.match(progress.pendingApprovals[0]?.prompt ?? '', /device "ghost" is not served/);
  await handle.executeUpdate(approveUpdate, { args: [{ stepId: 'upload', decision: 'reject', by: 'ops' }] });
  assert.equal((await handle.result()).steps.upload?.status, 'skipped');
});

test('a session lets go of the board while a human decides, and holds it again on retry', async () => {
  const image = makeImage(8192);
  const handle = await orch.start({
    name: 'session-offline',
    steps: [
      {
        id: 'flash',
        kind: 'device_session',
        device: 'k1',
        steps: [
          { id: 'upload', kind: 'device_upload', artifact: image.file },
          { id: 'smoke', kind: 'device_command', send: 'pattern smoke', expect: '^PATTERN smoke OK' },
        ],
      },
    ],
  });
  await escalated(handle);
  const lock = env.client.workflow.getHandle(deviceLockWorkflowId('k1'));
  assert.equal(
    (await lock.query(deviceLockStateQuery)).holder,
    undefined,
    'the session released the board for the decision',
  );

  await rig.start();
  await handle.executeUpdate(approveUpdate, { args: [{ stepId: 'upload', decision: 'approve', by: 'ops' }] });
  const result = await handle.result();
  assert.equal(result.steps.upload?.status, 'completed');
  assert.equal(result.steps.smoke?.status, 'completed');
  await rig.stop();
});
