/**
 * Durability for real: the worker process is SIGKILLed mid-run and the dev server is stopped
 * and restarted on the same SQLite file. Finished steps must not run again.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { ensureTemporalCli } from '../../temporal/cli';
import { freePort, startDevServer } from '../../temporal/dev-server';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import {
  approveUpdate,
  progressQuery,
  RUN_SPEC_WORKFLOW,
  type RunInput,
  type RunResult,
} from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { activities } from '../fixtures/test-activities';
import { newJournal, readJournal, waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');
let env: TestWorkflowEnvironment;
let bundlePath: string;
const children: ChildProcess[] = [];

before(async () => {
  env = await createTestEnv();
  bundlePath = path.join(mkdtempSync(path.join(tmpdir(), 'bundle-')), 'workflows.js');
  writeFileSync(bundlePath, (await bundleWorkflowsOnce()).code);
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await env?.teardown();
});

/** The real worker entry, as `npm start` runs it, in its own process. */
function spawnWorker(taskQueue: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'workers/orchestrator.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      ORCHESTRATOR_TASK_QUEUE: taskQueue,
      ORCHESTRATOR_ACTIVITY_MODULES: path.join(ROOT, 'test/fixtures/test-activities.ts'),
      ORCHESTRATOR_WORKFLOW_BUNDLE: bundlePath,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  return child;
}

const step = (id: string, journal: string, ms: number): Spec['steps'][number] => ({
  id,
  kind: 'activity',
  activity: 'test.record',
  args: { journal, label: id, ms },
  heartbeatTimeout: '1s',
  retry: { initialInterval: '100ms', maxAttempts: 5 },
});

test('a worker killed with SIGKILL mid-run is replaced and the run finishes without repeating finished steps', async () => {
  const journal = newJournal();
  const taskQueue = `crash-${randomUUID()}`;
  const spec: Spec = {
    name: 'crashy',
    steps: [step('s1', journal, 100), step('s2', journal, 100), step('s3', journal, 4000), step('s4', journal, 100)],
  };
  const first = spawnWorker(taskQueue);
  const handle = await env.client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
    taskQueue,
    workflowId: `crashy-${randomUUID()}`,
    args: [{ spec }],
  });
  await waitFor('s3 to start', () => readJournal(journal).find((e) => e.event === 'start' && e.label === 's3'), 60_000);
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));

  const second = spawnWorker(taskQueue);
  const result = await handle.result();
  second.kill('SIGTERM');

  assert.deepEqual(Object.keys(result.output as object), ['s1', 's2', 's3', 's4']);
  const starts = (label: string) => readJournal(journal).filter((e) => e.event === 'start' && e.label === label);
  assert.equal(starts('s1').length, 1, 's1 ran once');
  assert.equal(starts('s2').length, 1, 's2 ran once');
  assert.equal(starts('s4').length, 1, 's4 ran once');
  // s3 was cut off: retried on the new worker after its heartbeat timed out.
  const s3 = starts('s3');
  assert.equal(s3.length, 2);
  assert.notEqual(s3[0]!.pid, s3[1]!.pid);
  assert.equal(s3[1]!.attempt, 2);
});

test('the dev server stopped and restarted on the same SQLite file resumes the run', async () => {
  const cliPath = await ensureTemporalCli();
  const dbFile = path.join(mkdtempSync(path.join(tmpdir(), 'sqlite-')), 'temporal.db');
  const port = await freePort();
  const journal = newJournal();
  const taskQueue = `restart-${randomUUID()}`;
  const workflowId = `restart-${randomUUID()}`;
  const spec: Spec = {
    name: 'restart',
    steps: [
      step('before', journal, 50),
      { id: 'gate', kind: 'approval' },
      { id: 'nap', kind: 'sleep', duration: '500ms' },
      step('after', journal, 50),
    ],
  };

  const withServer = async <T>(fn: (client: Client) => Promise<T>): Promise<T> => {
    const server = await startDevServer({ cliPath, dbFile, port, uiPort: false });
    const native = await NativeConnection.connect({ address: server.address });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const worker = await createOrchestratorWorker({
      connection: native,
      temporal: { address: server.address, namespace: 'default', uiUrl: 'http://127.0.0.1:8233', taskQueue },
      config: loadOrchestratorWorkerConfig({}),
      workflowBundle: await bundleWorkflowsOnce(),
      activities,
    });
    const running = worker.run();
    try {
      return await fn(client);
    } finally {
      worker.shutdown();
      await running;
      await native.close();
      await connection.close();
      await server.stop();
    }
  };

  await withServer(async (client) => {
    const handle = await client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [{ spec }],
    });
    await waitFor('the gate to wait', async () =>
      (await handle.query(progressQuery)).pendingApprovals.length ? true : undefined,
    );
  });

  const result = await withServer(async (client) => {
    const handle = client.workflow.getHandle<(i: RunInput) => Promise<RunResult>>(workflowId);
    const progress = await handle.query(progressQuery);
    assert.equal(progress.steps.before?.status, 'completed');
    assert.deepEqual(progress.current, ['gate']);
    await handle.executeUpdate(approveUpdate, { args: [{ stepId: 'gate', decision: 'approve', by: 'ops' }] });
    return handle.result();
  });

  assert.equal(result.steps.after?.status, 'completed');
  const starts = readJournal(journal).filter((e) => e.event === 'start');
  assert.deepEqual(
    starts.map((e) => e.label),
    ['before', 'after'],
  );
});
