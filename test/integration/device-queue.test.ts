/**
 * Many runs, one board: 20 runs ask to upload to the same device at once, over a real pty pair
 * (the project's own relay) to the simulated ESP32-S3. They wait in line in the device's lock, which grants
 * it to one at a time. Every upload must succeed, none may overlap another, and the board must hold exactly
 * each run's image afterwards.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Spec } from '../../workflows/contracts/spec';
import type { DeviceUploadResult } from '../../workflows/contracts/device';
import { useDeviceBed } from '../fixtures/device/bed';
import { makeImage, percentile, uploadIntervals } from '../fixtures/device/harness';

const bed = useDeviceBed({ boards: [{ id: 'k1', rig: { blockDelayMs: 2 } }] });

test('20 runs upload to one device at once: all succeed, never overlapping, each image intact', async () => {
  const images = Array.from({ length: 20 }, (_, i) => makeImage(16 * 1024 + i * 512));
  const handles = await Promise.all(
    images.map((img, i) =>
      bed.orch.start({
        name: `upload-${i}`,
        steps: [{ id: 'upload', kind: 'device_upload', device: 'k1', artifact: img.file }],
      } satisfies Spec),
    ),
  );

  // They wait in the lock's line; how long it got is sampled, printed, and must show they queued.
  let longestLine = 0;
  let done = false;
  const watch = (async () => {
    while (!done) {
      longestLine = Math.max(longestLine, (await bed.lockView()).waiting.length);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const results = await Promise.all(handles.map((h) => h.result()));
  done = true;
  await watch;
  console.log(`device queue, 20 uploads: longest line seen in the device's lock ${longestLine}`);
  assert.ok(longestLine > 1, 'the uploads waited their turn in the lock');

  const outputs = results.map((r) => {
    assert.equal(r.steps.upload?.status, 'completed');
    return r.steps.upload?.output as DeviceUploadResult;
  });

  // The worker's view: one upload at a time.
  const byStart = [...outputs].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  for (let i = 1; i < byStart.length; i++) {
    assert.ok(
      Date.parse(byStart[i]!.startedAt) >= Date.parse(byStart[i - 1]!.finishedAt),
      `upload ${i} started before upload ${i - 1} finished`,
    );
  }

  // The board's view: 20 complete uploads, none cut off, none overlapping.
  const events = bed.rig().events();
  const intervals = uploadIntervals(events);
  assert.equal(intervals.length, 20);
  assert.ok(intervals.every((u) => u.end !== undefined && !u.interrupted));
  for (let i = 1; i < intervals.length; i++) assert.ok(intervals[i]!.start > intervals[i - 1]!.end!);
  assert.equal(events.filter((e) => e.event === 'error').length, 0, 'the board reported no protocol errors');

  // The bytes the board received are each run's image.
  const received = events.filter((e) => e.event === 'image');
  assert.equal(received.length, 20);
  for (const [i, img] of images.entries()) {
    const got = received.find((e) => e.md5 === outputs[i]!.md5);
    assert.ok(got, `image of run ${i} reached the board`);
    assert.ok(readFileSync(got.file as string).equals(img.bytes), `image of run ${i} is byte-identical`);
    assert.match(
      outputs[i]!.bootLine ?? '',
      new RegExp(outputs[i]!.md5.slice(0, 8)),
      'the booted firmware is the one uploaded',
    );
  }

  const boardGaps = intervals
    .slice(1)
    .map((u, i) => u.start - intervals[i]!.end!)
    .sort((a, b) => a - b);
  const workerGaps = byStart
    .slice(1)
    .map((o, i) => Date.parse(o.startedAt) - Date.parse(byStart[i]!.finishedAt))
    .sort((a, b) => a - b);
  const fmt = (g: number[]) => `p50 ${percentile(g, 50)} ms, p95 ${percentile(g, 95)} ms, max ${g[g.length - 1]} ms`;
  console.log(
    `device queue, 20 uploads: gap end → next start on the board (FLASH_END → FLASH_BEGIN): ${fmt(boardGaps)}`,
  );
  console.log(`device queue, 20 uploads: gap activity end → next activity start on the worker: ${fmt(workerGaps)}`);

  const view = await bed.lockView();
  assert.equal(view.waiting.length, 0);
  assert.equal(view.holder, undefined);
  assert.equal(view.stats.succeeded, 20);
  assert.equal(view.stats.grants, 20, 'every upload held the device through its lock');
  assert.equal(view.lastResult?.status, 'completed');
});
