/**
 * Cluster only (`npm run test:cluster` runs it; `npm test` does not pick it up): three
 * orchestrator worker processes, as `npm run worker` runs them on three hosts, share one task
 * queue on the cluster; one is SIGKILLed while it runs steps of a batch of runs. Every run must
 * still finish with its own result, the killed worker's steps retried on the other two.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { RUN_SPEC_WORKFLOW, type RunInput, type RunResult } from '../../workflows/contracts/run';
import type { Spec } from '../../workflows/contracts/spec';
import { newJournal, readJournal, waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { testDataEnv } from '../helpers/worker';

const ROOT = path.resolve(__dirname, '../..');
const RUNS = 12;
let env: TestWorkflowEnvironment;
let bundlePath: string;
const workers: ChildProcess[] = [];

before(async () => {
  env = await createTestEnv();
  bundlePath = path.join(mkdtempSync(path.join(tmpdir(), 'bundle-')), 'workflows.js');
  writeFileSync(bundlePath, (await bundleWorkflowsOnce()).code);
});

after(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await env?.teardown();
});

/** workers/orchestrator.ts in its own process; resolves once it polls (its banner is out). */
async function startWorker(taskQueue: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'workers/orchestrator.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...testDataEnv(),
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace,
      ORCHESTRATOR_TASK_QUEUE: taskQueue,
      ORCHESTRATOR_ACTIVITY_MODULES: path.join(ROOT, 'test/fixtures/test-activities.ts'),
      ORCHESTRATOR_WORKFLOW_BUNDLE: bundlePath,
      ORCHESTRATOR_SHUTDOWN_GRACE: '2s',
      WORKER_VERSIONING: 'off',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  workers.push(child);
  const lines = readline.createInterface({ input: child.stdout! });
  const banner = new Promise<void>((resolve) =>
    lines.on('line', (line) => {
      if (line.startsWith('orchestrator worker: task queue')) resolve();
    }),
  );
  const exited = once(child, 'exit').then(([code, signal]) => {
    throw new Error(`worker exited before it polled (${signal ?? code})`);
  });
  await Promise.race([banner, exited]);
  return child;
}

const record = (journal: string, label: string, ms: number): Spec['steps'][number] => ({
  id: label.split(':')[1]!,
  kind: 'activity',
  activity: 'test.record',
  args: { journal, label, ms },
  heartbeatTimeout: '1s',
  retry: { initialInterval: '100ms', maxAttempts: 5 },
});

test('three orchestrator workers on the cluster, one SIGKILLed mid-run: every run finishes with its result', async () => {
  const journal = newJournal();
  const taskQueue = `three-workers-${randomUUID()}`;
  const [victim, ...survivors] = await Promise.all([1, 2, 3].map(() => startWorker(taskQueue)));

  const handles = await Promise.all(
    Array.from({ length: RUNS }, (_, run) => {
      const spec: Spec = {
        name: 'three-workers',
        steps: [
          record(journal, `${run}:first`, 50),
          record(journal, `${run}:long`, 3000),
          { id: 'echo', kind: 'activity', activity: 'test.echo', args: { run } },
        ],
      };
      return env.client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
        taskQueue,
        workflowId: `three-workers-${run}-${randomUUID()}`,
        args: [{ spec }],
      });
    }),
  );

  // Kill it while it has steps in flight: started in its process and not ended.
  const inFlight = (): string[] => {
    const entries = readJournal(journal).filter((e) => e.pid === victim!.pid);
    const ended = new Set(entries.filter((e) => e.event === 'end').map((e) => e.label));
    return entries.filter((e) => e.event === 'start' && !ended.has(e.label)).map((e) => e.label);
  };
  await waitFor('a step in flight on the first worker', () => inFlight().length > 0);
  victim!.kill('SIGKILL');
  await once(victim!, 'exit');
  const cutOff = inFlight();
  assert.ok(cutOff.length > 0, 'the kill cut off at least one step');

  const results = await Promise.all(handles.map((h) => h.result()));
  results.forEach((result, run) => {
    assert.deepEqual(result.output, {
      first: { label: `${run}:first` },
      long: { label: `${run}:long` },
      echo: { run },
    });
  });
  // Each step cut off by the kill ran again, in one of the survivors, as a later attempt.
  const entries = readJournal(journal);
  for (const label of cutOff) {
    const rerun = entries.find((e) => e.event === 'end' && e.label === label && e.pid !== victim!.pid);
    assert.ok(rerun, `${label} finished after the kill`);
    assert.ok(
      survivors.some((w) => w.pid === rerun.pid),
      `${label} finished on a surviving worker`,
    );
    assert.ok(rerun.attempt > 1, `${label} was retried (attempt ${rerun.attempt})`);
  }
  for (const w of survivors) w.kill('SIGTERM');
  await Promise.all(survivors.map((w) => (w.exitCode === null ? once(w, 'exit') : undefined)));
});
