/**
 * The device worker process is SIGKILLed mid-upload. The attempt times out by heartbeat, is
 * retried on the restarted worker and resumes from the last sector the board acknowledged
 * (the heartbeat carries it); the board ends up with exactly the image, and the two attempts
 * never overlap.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { DeviceUploadResult, UploadProgress } from '../../workflows/contracts/device';
import { useDeviceBed } from '../fixtures/device/bed';
import { makeImage, pendingHeartbeat, uploadIntervals } from '../fixtures/device/harness';
import { waitFor } from '../helpers/journal';

const bed = useDeviceBed({
  boards: [{ id: 'k1', rig: { blockDelayMs: 15 }, config: { heartbeatTimeout: '2s' }, worker: false }],
});

test('a device worker SIGKILLed mid-upload: retried on the restarted worker, resumed, no overlap, image intact', async () => {
  const image = makeImage(160 * 1024);
  const first = bed.spawnWorker().child;
  // The worker creates the device's lock when it starts; before that the device is not served.
  await waitFor(
    'the device worker to start',
    () =>
      bed.lockView().then(
        (v) => v.settings !== undefined,
        () => false,
      ),
    60_000,
  );
  const handle = await bed.orch.start({
    name: 'crash-upload',
    steps: [{ id: 'upload', kind: 'device_upload', device: 'k1', artifact: image.file }],
  });

  // Heartbeats carry progress: wait until the board acknowledged a good part of the image.
  const progress = await waitFor(
    'the upload to be under way',
    async () => {
      const p = await pendingHeartbeat<UploadProgress>(handle, 'deviceUpload');
      return p && (p.ackedBlocks ?? 0) >= 40 ? p : undefined;
    },
    60_000,
  );
  assert.equal(progress.phase, 'upload');
  assert.equal(progress.totalBytes, image.bytes.length);
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  const killedAt = Date.now();

  const second = bed.spawnWorker().child;
  const result = await handle.result();
  second.kill('SIGTERM');

  const out = result.steps.upload?.output as DeviceUploadResult;
  assert.equal(result.steps.upload?.status, 'completed');
  assert.equal(out.attempt, 2, 'the second attempt finished the upload');
  assert.ok((out.resumedFromBlock ?? 0) >= 36, `resumed from block ${out.resumedFromBlock}, not from the start`);
  assert.equal(out.resumedFromBlock! % 4, 0, 'resumed on an erase-sector boundary');

  const events = bed.rig().events();
  const uploads = uploadIntervals(events);
  assert.equal(uploads.length, 2);
  assert.equal(uploads[0]!.interrupted, true, 'the first upload was cut off');
  assert.ok(uploads[1]!.start > killedAt, 'the retry began only after the first worker was dead');
  assert.ok(uploads[1]!.end !== undefined && !uploads[1]!.interrupted);
  const received = events.filter((e) => e.event === 'image');
  assert.equal(received.length, 1);
  assert.ok(readFileSync(received[0]!.file as string).equals(image.bytes), 'the board holds exactly the image');
  console.log(
    `device crash: killed at block ${progress.ackedBlocks}/${progress.totalBlocks}; retry resumed at block ${out.resumedFromBlock}, ${uploads[1]!.start - killedAt} ms after the kill`,
  );
});
