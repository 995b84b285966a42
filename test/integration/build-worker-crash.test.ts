/**
 * A SIGKILLed build worker takes nothing with it: its build (a process group: the fake build and
 * a helper it starts) keeps running. The next build worker of the queue, started as the real
 * entry (workers/build.ts) in a child process, kills that group before it polls.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Spec } from '../../workflows/contracts/spec';
import { fakeBuildWorkspace } from '../fixtures/device/builds';
import { readJournal, waitFor } from '../helpers/journal';
import { useOrchestrator } from '../helpers/orchestrator';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

const orch = useOrchestrator();
const workers: ChildProcess[] = [];

after(() => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
});

/** Running, not a zombie waiting to be reaped. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The build worker entry in a child process; resolves once it polls (its banner is out). */
async function startBuildWorker(
  configFile: string,
  runDir: string,
): Promise<{ child: ChildProcess; output(): string }> {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'workers', 'build.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: orch.env.address,
      TEMPORAL_NAMESPACE: orch.env.namespace ?? 'default',
      BUILD_CONFIG: configFile,
      BUILD_SLOTS: '1',
      WORKER_RUN_DIR: runDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(`the build worker to start (output: ${output})`, () => {
    if (child.exitCode !== null) throw new Error(`the build worker exited: ${output}`);
    return /build worker: task queue "build"/.test(output);
  });
  return { child, output: () => output };
}

test('a new build worker kills the build process group its SIGKILLed predecessor left running', async () => {
  const ws = fakeBuildWorkspace({ FAKE_BUILD_MS: '600000' });
  const runDir = mkdtempSync(path.join(tmpdir(), 'worker-run-'));
  const first = await startBuildWorker(ws.configFile, runDir);
  const spec: Spec = {
    name: 'build-orphan',
    steps: [
      {
        id: 'build',
        kind: 'build',
        workspace: 'firmware',
        target: 'long',
        timeout: '10m',
        heartbeatTimeout: '2s',
        retry: { maxAttempts: 1 },
      },
    ],
  };
  const handle = await orch.start(spec);
  try {
    const started = await waitFor('the build to start', () => readJournal(ws.journal).find((e) => e.event === 'start'));
    const { pid, helperPid } = started as unknown as { pid: number; helperPid: number };
    const ledger = path.join(runDir, `build.${first.child.pid}.pids`);
    await waitFor('the group to be recorded', () =>
      existsSync(ledger) ? readFileSync(ledger, 'utf8').includes(`"pgid":${pid}`) : false,
    );

    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    await exited;
    assert.ok(isRunning(pid) && isRunning(helperPid), 'the orphaned build outlives its worker');

    const second = await startBuildWorker(ws.configFile, runDir);
    // The new worker kills the group before it polls, so by its banner the build is gone.
    assert.ok(!isRunning(pid), 'the orphaned build leader is gone');
    assert.ok(!isRunning(helperPid), 'its helper (same process group) is gone');
    assert.match(
      second.output(),
      new RegExp(`killed process group ${pid} \\(.*node.*\\) left running by worker ${first.child.pid}`),
    );
    assert.deepEqual(readdirSync(runDir), [`build.${second.child.pid}.pids`], 'the dead worker’s ledger is removed');
  } finally {
    await handle.terminate().catch(() => undefined);
  }
});
