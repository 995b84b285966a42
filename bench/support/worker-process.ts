/**
 * The orchestrator worker as `npm start` runs it: workers/orchestrator.ts in a process of its
 * own, so its CPU is its own and the API and the bench's client do not share its event loop.
 * Spec activities come from the test fixtures (`test.echo` is the no-op step); unversioned, as
 * the tests and the other benches run it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { testDataEnv } from '../../test/helpers/worker';

const ROOT = path.resolve(__dirname, '../..');
const READY_TIMEOUT_MS = 120_000;

export interface WorkerProcess {
  pid: number;
  /** SIGTERM, then wait for it to drain and exit. */
  stop(): Promise<void>;
}

export interface WorkerProcessOptions {
  address: string;
  taskQueue: string;
  /** Bundled workflow code to run instead of the product's (which the worker would bundle itself). */
  bundleCode?: string;
  /** More environment for the worker (e.g. LLM_MODELS_JSON); it wins over the defaults above. */
  env?: Record<string, string>;
  /** Node flags after tsx's, before the entry (e.g. bench/support/heap-probe.ts as a preload). */
  nodeArgs?: string[];
}

export async function startWorkerProcess(opts: WorkerProcessOptions): Promise<WorkerProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-worker-'));
  const bundlePath = path.join(dir, 'workflows.js');
  if (opts.bundleCode !== undefined) writeFileSync(bundlePath, opts.bundleCode);
  const args = ['--import', 'tsx', ...(opts.nodeArgs ?? []), path.join(ROOT, 'workers/orchestrator.ts')];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      ...testDataEnv(),
      TEMPORAL_ADDRESS: opts.address,
      TEMPORAL_NAMESPACE: 'default',
      ORCHESTRATOR_TASK_QUEUE: opts.taskQueue,
      ORCHESTRATOR_ACTIVITY_MODULES: path.join(ROOT, 'test/fixtures/test-activities.ts'),
      ORCHESTRATOR_SHUTDOWN_GRACE: '2s',
      WORKER_VERSIONING: 'off',
      ...(opts.bundleCode !== undefined && { ORCHESTRATOR_WORKFLOW_BUNDLE: bundlePath }),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready once it prints its banner ("orchestrator worker: task queue ..."); its later lines pass through.
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the worker process printed no banner in time')), READY_TIMEOUT_MS);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('orchestrator worker: task queue')) {
        clearTimeout(timer);
        resolve();
      } else if (line.trim()) console.log(`[worker] ${line}`);
    });
    const gone = () => {
      clearTimeout(timer);
      reject(new Error(`the worker process exited before it was ready (${child.exitCode ?? child.signalCode})`));
    };
    exited.then(gone, gone);
  });
  try {
    await ready;
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: child.pid!, stop };
}
