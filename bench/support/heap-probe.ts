/**
 * A preload for a bench's worker process (`--import` it after tsx; only bench/scale.ts does),
 * active when BENCH_PROBE_DIR names a directory:
 *
 *  - every second, the main thread writes its process.memoryUsage() (now and peak) to main.json,
 *    and each worker thread it starts (the SDK's workflow thread) writes its V8 heap statistics
 *    to thread-<id>.json: the thread's heap is not in the main thread's figures;
 *  - on SIGWINCH (SIGUSR2 would stop the worker: it is one of the SDK's shutdown signals) it writes heap snapshots of the main thread and of every worker thread, named
 *    after the text of `label` in that directory, then a `snapshot-<label>.done` file.
 *
 * Worker threads do not run --import preloads, so the thread's sampler is put in front of the
 * thread's own script: the Worker class is wrapped before the SDK loads it.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import v8 from 'node:v8';
import type { Worker as ThreadType, WorkerOptions } from 'node:worker_threads';

const dir = process.env.BENCH_PROBE_DIR;

/** Overwrites `file` at once (a reader never sees half of it). */
function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(value));
  fs.renameSync(`${file}.tmp`, file);
}

/** Runs inside each worker thread before its own script: its heap, now and at its peak. */
const threadSampler = (out: string, script: string) => `
const v8 = require('node:v8'), fs = require('node:fs');
const file = ${JSON.stringify(out)} + '/thread-' + require('node:worker_threads').threadId + '.json';
let peakUsed = 0, peakTotal = 0;
setInterval(() => {
  const h = v8.getHeapStatistics();
  peakUsed = Math.max(peakUsed, h.used_heap_size);
  peakTotal = Math.max(peakTotal, h.total_heap_size);
  fs.writeFileSync(file + '.tmp', JSON.stringify({ script: ${JSON.stringify(script)}, at: Date.now(), used: h.used_heap_size, total: h.total_heap_size,
    limit: h.heap_size_limit, external: h.external_memory, malloced: h.malloced_memory, peakUsed, peakTotal }));
  fs.renameSync(file + '.tmp', file);
}, 1000).unref();
`;

function install(out: string): void {
  fs.mkdirSync(out, { recursive: true });
  const threads = new Set<ThreadType>();
  // The SDK (CommonJS) reads `Worker` off this module object when it starts its thread.
  const workerThreads = createRequire(path.join(process.cwd(), 'probe.js'))('node:worker_threads') as {
    Worker: typeof ThreadType;
  };
  const Original = workerThreads.Worker;
  workerThreads.Worker = class ProbedThread extends Original {
    constructor(filename: string | URL, options?: WorkerOptions) {
      const script = `${threadSampler(out, String(filename))}\nrequire(${JSON.stringify(String(filename))});`;
      super(script, { ...options, eval: true });
      threads.add(this);
      this.once('exit', () => threads.delete(this));
    }
  };

  const peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  setInterval(() => {
    const now = process.memoryUsage();
    for (const k of Object.keys(peak) as Array<keyof typeof peak>) peak[k] = Math.max(peak[k], now[k]);
    writeJson(path.join(out, 'main.json'), { at: Date.now(), now, peak });
  }, 1000).unref();

  let snapshotting = false;
  process.on('SIGWINCH', () => {
    if (snapshotting) return;
    snapshotting = true;
    const label = fs.readFileSync(path.join(out, 'label'), 'utf8').trim();
    void (async () => {
      v8.writeHeapSnapshot(path.join(out, `${label}-main.heapsnapshot`));
      for (const thread of threads) {
        const stream = await thread.getHeapSnapshot();
        await pipeline(stream, fs.createWriteStream(path.join(out, `${label}-thread${thread.threadId}.heapsnapshot`)));
      }
      fs.writeFileSync(path.join(out, `snapshot-${label}.done`), '');
    })()
      .catch((err: unknown) => console.error('heap probe: snapshot failed', err))
      .finally(() => (snapshotting = false));
  });
}

if (dir) install(dir);
