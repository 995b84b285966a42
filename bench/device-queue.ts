/**
 * Pickup gap of the device queue: N runs ask to upload to one simulated ESP32-S3 at once (the
 * project's own pty relay, simulator process, in-process device and orchestrator workers, a
 * Temporal dev server: the device test bed). They wait in line in the device's lock; the pickup
 * gap is the time from one upload's end to the next one's start, for uploads whose run was already
 * waiting: the release, the lock's grant, the run scheduling the upload, dispatch to the one-slot
 * device worker, the fencing check, artifact read and port open. Prints p50/p95; not a timed test.
 *
 *   npx tsx bench/device-queue.ts [uploads=50] [imageKiB=16]
 */
import os from 'node:os';
import type { DeviceUploadResult } from '../workflows/contracts/device';
import type { Spec } from '../workflows/contracts/spec';
import { startDeviceBed } from '../test/fixtures/device/bed';
import { makeImage, percentile, uploadIntervals } from '../test/fixtures/device/harness';

const summary = (label: string, values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  console.log(
    `${label.padEnd(52)} n=${s.length}  p50 ${percentile(s, 50)} ms  p95 ${percentile(s, 95)} ms  min ${s[0]} ms  max ${s.at(-1)} ms  mean ${mean.toFixed(1)} ms`,
  );
};

async function main(): Promise<void> {
  const uploads = Number(process.argv[2] ?? 50);
  const imageKiB = Number(process.argv[3] ?? 16);
  const cpus = os.cpus();
  console.log(`device-queue bench: ${uploads} queued uploads of ${imageKiB} KiB to one device`);
  console.log(
    `machine: ${cpus.length} CPU(s) (${cpus[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString()}`,
  );

  const bed = await startDeviceBed({ boards: [{ id: 'bench', config: { lease: '5m' } }] });
  const { orch } = bed;
  const rig = bed.rig();
  try {
    // Warm up: bundle loaded, port opened once, lock running.
    const warm = makeImage(4096);
    await (
      await orch.start({
        name: 'warmup',
        steps: [{ id: 'upload', kind: 'device_upload', device: 'bench', artifact: warm.file }],
      })
    ).result();
    const skipEvents = rig.events().length;

    const images = Array.from({ length: uploads }, () => makeImage(imageKiB * 1024));
    const started = Date.now();
    // When each run was started (client side, the clock the uploads' times share).
    const requestedAt: number[] = [];
    const handles = await Promise.all(
      images.map(async (img, i) => {
        const handle = await orch.start({
          name: `bench-${i}`,
          steps: [{ id: 'upload', kind: 'device_upload', device: 'bench', artifact: img.file }],
        } satisfies Spec);
        requestedAt[i] = Date.now();
        return handle;
      }),
    );
    const results = await Promise.all(handles.map((h) => h.result()));
    const wall = Date.now() - started;

    const outputs = results
      .map((r, i) => ({ ...(r.steps.upload?.output as DeviceUploadResult), requestedAt: requestedAt[i]! }))
      .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    const intervals = uploadIntervals(rig.events().slice(skipEvents));
    if (intervals.length !== uploads || intervals.some((u) => u.interrupted || u.end === undefined))
      throw new Error('not every upload completed cleanly');
    const overlaps = outputs
      .slice(1)
      .filter((o, i) => Date.parse(o.startedAt) < Date.parse(outputs[i]!.finishedAt)).length;

    // A pickup gap counts only when the next upload's run was already waiting for the device.
    const queued = outputs
      .slice(1)
      .map((o, i) => ({ o, prev: outputs[i]!, board: intervals[i + 1]!.start - intervals[i]!.end! }))
      .filter(({ o, prev }) => o.requestedAt < Date.parse(prev.finishedAt));
    summary(
      'pickup gap, worker: activity end → next start',
      queued.map(({ o, prev }) => Date.parse(o.startedAt) - Date.parse(prev.finishedAt)),
    );
    summary(
      'pickup gap, board: FLASH_END → next FLASH_BEGIN',
      queued.map(({ board }) => board),
    );
    summary(
      'board idle, all consecutive uploads',
      intervals.slice(1).map((u, i) => u.start - intervals[i]!.end!),
    );
    summary(
      'waiting for the device: run started → upload start',
      outputs.map((o) => Date.parse(o.startedAt) - o.requestedAt),
    );
    summary(
      'time queued in the device task queue',
      outputs.map((o) => o.queuedMs),
    );
    summary(
      'upload duration (activity, incl. verify)',
      outputs.map((o) => o.durationMs),
    );
    console.log(
      `wall time ${wall} ms for ${uploads} uploads (${(wall / uploads).toFixed(0)} ms each); overlapping uploads: ${overlaps}`,
    );
  } finally {
    await bed.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
