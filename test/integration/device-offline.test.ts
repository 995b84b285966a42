/**
 * An unplugged board: the upload is retried (3 attempts, short backoff here), then the step is
 * SKIPPED rather than FAILED and the run asks a human to retry, skip or abort. Plugging the
 * board back in and choosing retry uploads the image.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { approveUpdate, progressQuery, type RunProgress } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import type { DeviceUploadResult } from '../../workflows/contracts/device';
import { useDeviceBed } from '../fixtures/device/bed';
import { activityAttempts, makeImage } from '../fixtures/device/harness';
import { waitFor } from '../helpers/journal';
import type { Orchestrator } from '../helpers/orchestrator';

const bed = useDeviceBed({ boards: [{ id: 'k1', unplugged: true }] });

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
  const handle = await bed.orch.start(uploadThenReport(image.file));
  const progress = await escalated(handle);
  const pending = progress.pendingApprovals.find((a) => a.stepId === 'upload');
  assert.deepEqual(pending?.choices, ['retry', 'skip', 'abort']);
  assert.match(
    pending?.prompt ?? '',
    /Device "k1" is offline: cannot open serial port .* after 3 attempt\(s\)\. The upload of .* was skipped/,
  );

  // The attempt ended SKIPPED in the device's record, not FAILED.
  const lock = await bed.lockView();
  assert.equal(lock.lastResult?.status, 'skipped');
  assert.equal(lock.stats.failed, 0);
  assert.equal(lock.holder, undefined, 'nobody holds the device while a human decides');
  assert.deepEqual(
    await activityAttempts(handle, 'deviceUpload'),
    [3],
    'one upload activity, started for the 3rd time when it gave up',
  );

  await bed.rig().start();
  await handle.executeUpdate(approveUpdate, {
    args: [{ stepId: 'upload', decision: 'approve', choice: 'retry', by: 'ops', comment: 'board plugged back in' }],
  });
  const result = await handle.result();
  assert.equal(result.steps.upload?.status, 'completed');
  const out = result.steps.upload?.output as DeviceUploadResult;
  const received = bed
    .rig()
    .events()
    .find((e) => e.event === 'image' && e.md5 === out.md5);
  assert.ok(received && readFileSync(received.file as string).equals(image.bytes), 'the board holds the image');
  assert.deepEqual(result.output, { upload: out, after: { uploadStatus: 'completed' } });
  await bed.rig().stop();
});

test('choosing skip leaves the step SKIPPED and the run goes on; abort fails the run', async () => {
  const skipped = await bed.orch.start(uploadThenReport(makeImage(4096).file));
  await escalated(skipped);
  await skipped.executeUpdate(approveUpdate, {
    args: [{ stepId: 'upload', decision: 'reject', choice: 'skip', by: 'ops' }],
  });
  const result = await skipped.result();
  assert.equal(result.steps.upload?.status, 'skipped');
  assert.match(String((result.steps.upload?.output as { reason: string }).reason), /device "k1" offline/);
  assert.deepEqual(result.steps.after?.output, { uploadStatus: 'skipped' });

  const aborted = await bed.orch.start(uploadThenReport(makeImage(4096).file));
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
  const handle = await bed.orch.start({
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
  const handle = await bed.orch.start({
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
  assert.equal((await bed.lockView()).holder, undefined, 'the session released the board for the decision');

  await bed.rig().start();
  await handle.executeUpdate(approveUpdate, { args: [{ stepId: 'upload', decision: 'approve', by: 'ops' }] });
  const result = await handle.result();
  assert.equal(result.steps.upload?.status, 'completed');
  assert.equal(result.steps.smoke?.status, 'completed');
  await bed.rig().stop();
});
