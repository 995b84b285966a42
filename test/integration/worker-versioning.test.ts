/**
 * Worker Versioning on the dev server as `npm start` runs it: orchestrator workers of two builds
 * of one worker deployment, the second with a changed interpreter (guarded with patched()).
 * A run waiting at an approval moves to the new version when it is promoted; a pinned run stays
 * on the old one, which drains. Versions are read the way the Web UI shows them: from describe.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ensureTemporalCli } from '../../temporal/cli';
import type { TemporalConfig } from '../../temporal/config';
import { startDevServer, type DevServer } from '../../temporal/dev-server';
import { describeDeployment, missingTaskQueues } from '../../temporal/worker-deployments';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { defaultBuildId, type PromotePolicy } from '../../temporal/versioning-config';
import type { deviceLock } from '../../workflows/device-lock';
import { MCP_INVENTORY_WORKFLOW } from '../../workflows/mcp-inventory';
import {
  approveUpdate,
  progressQuery,
  RUN_SPEC_WORKFLOW,
  type RunInput,
  type RunResult,
} from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { DEVICE_LOCK_WORKFLOW, deviceLockWorkflowId } from '../../workflows/contracts/device';
import { VERSIONING_BEHAVIOR } from '../../workflows/versioning';
import { activities as testActivities } from '../fixtures/test-activities';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, quietRuntime } from '../helpers/temporal';

const run = promisify(execFile);
/** The patch id in test/fixtures/versioned-workflow-v2.ts. */
const V2_PATCH = 'test-v2-timer-before-steps';
const ROOT = path.resolve(__dirname, '../..');
const { VersioningBehavior } = temporal.api.enums.v1;
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
function noop(): void {}

type RunHandle = WorkflowHandle<(i: RunInput) => Promise<RunResult>>;

let cliPath: string;
let server: DevServer;
let connection: Connection;
let client: Client;
let v1Bundle: WorkflowBundleWithSourceMap;
let v2Bundle: WorkflowBundleWithSourceMap;
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  quietRuntime();
  cliPath = await ensureTemporalCli();
  server = await startDevServer({ cliPath, uiPort: false });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
  v1Bundle = await bundleWorkflowsOnce();
  v2Bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../fixtures/versioned-workflow-v2'),
    logger: quiet,
  });
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await connection?.close();
  await server?.stop();
});

const temporalConfig = (taskQueue: string): TemporalConfig => ({
  address: server.address,
  namespace: 'default',
  uiUrl: 'http://127.0.0.1:8233',
  taskQueue,
});

/** An orchestrator worker of `deploymentName` at `buildId`, on a connection of its own. */
async function startVersionedWorker(o: {
  taskQueue: string;
  deploymentName: string;
  buildId: string;
  bundle: WorkflowBundleWithSourceMap;
  promote?: PromotePolicy;
}): Promise<() => Promise<void>> {
  const native = await NativeConnection.connect({ address: server.address });
  const worker = await createOrchestratorWorker({
    connection: native,
    temporal: temporalConfig(o.taskQueue),
    config: { ...loadOrchestratorWorkerConfig({}), shutdownGraceTimeMs: 2_000 },
    workflowBundle: o.bundle,
    activities: testActivities,
    versioning: { enabled: true, deploymentName: o.deploymentName, buildId: o.buildId, promote: o.promote ?? 'first' },
  });
  const running = worker.run();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await native.close();
    })());
  cleanups.push(stop);
  return stop;
}

async function waitForDeployment(deploymentName: string, what: string, ok: (v: DeploymentViewLike) => boolean) {
  return waitFor(
    what,
    async () => {
      const view = await describeDeployment(connection, 'default', deploymentName);
      return view && !view.propagating && ok(view) ? view : undefined;
    },
    60_000,
  );
}
type DeploymentViewLike = NonNullable<Awaited<ReturnType<typeof describeDeployment>>>;

/** The versioning of the handle's latest run, or of run `runId`. */
async function versioningOf(handle: { workflowId: string }, runId?: string) {
  const { raw } = await client.workflow.getHandle(handle.workflowId, runId).describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  return {
    buildId: info?.deploymentVersion?.buildId ?? undefined,
    behavior: info?.behavior ?? VersioningBehavior.VERSIONING_BEHAVIOR_UNSPECIFIED,
    pinnedOverride: info?.versioningOverride?.pinned?.version?.buildId ?? undefined,
  };
}

/** The build id that completed each workflow task, in order. */
async function taskBuildIds(handle: RunHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowTaskCompletedEventAttributes)
    .filter((a) => a !== null && a !== undefined)
    .map((a) => a.deploymentVersion?.buildId ?? '(unversioned)');
}

/** Whether the run recorded version 2's patch (a patch marker carries its id in its details). */
async function tookV2Patch(handle: RunHandle): Promise<boolean> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).some((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') return false;
    const data = Object.values(marker.details ?? {}).flatMap((p) => p.payloads ?? []);
    return data.some((p) =>
      Buffer.from(p.data ?? [])
        .toString('utf8')
        .includes(V2_PATCH),
    );
  });
}

const waitingSpec: Spec = {
  name: 'versioned',
  steps: [
    { id: 'gate', kind: 'approval' },
    { id: 'nap', kind: 'sleep', duration: '10ms' },
  ],
};

function startRun(taskQueue: string, pinnedTo?: { deploymentName: string; buildId: string }): Promise<RunHandle> {
  return client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
    taskQueue,
    workflowId: `versioned-${randomUUID()}`,
    args: [{ spec: waitingSpec }],
    ...(pinnedTo ? { versioningOverride: { pinnedTo } } : {}),
  });
}

/** Version 2's timer comes before the interpreter registers its query: until then, not waiting yet. */
const waitingAtGate = (handle: RunHandle) =>
  waitFor('the run to wait at its approval', async () => {
    const progress = await handle.query(progressQuery).catch((err: Error) => {
      if (err.name === 'QueryNotRegisteredError') return undefined;
      throw err;
    });
    return progress && progress.pendingApprovals.length > 0 ? true : undefined;
  });

const approve = (handle: RunHandle) =>
  handle.executeUpdate(approveUpdate, { args: [{ stepId: 'gate', decision: 'approve', by: 'ops' }] });

describe('worker versioning', () => {
  test('a waiting run moves to a promoted version 2 and completes there; a pinned run stays on version 1 until it drains', async () => {
    const taskQueue = `versioning-${randomUUID()}`;
    const deploymentName = `orchestrator-${randomUUID().slice(0, 8)}`;
    const stopV1 = await startVersionedWorker({ taskQueue, deploymentName, buildId: '1.0', bundle: v1Bundle });
    // The first version of a deployment makes itself current.
    await waitForDeployment(deploymentName, 'version 1.0 to be current', (v) => v.current === '1.0');

    const movable = await startRun(taskQueue);
    const pinned = await startRun(taskQueue, { deploymentName, buildId: '1.0' });
    await waitingAtGate(movable);
    await waitingAtGate(pinned);
    assert.deepEqual(await versioningOf(movable), {
      buildId: '1.0',
      behavior: VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE,
      pinnedOverride: undefined,
    });
    assert.equal((await versioningOf(pinned)).pinnedOverride, '1.0');

    // A second version does not take over by itself: it is not the deployment's first.
    await startVersionedWorker({ taskQueue, deploymentName, buildId: '2.0', bundle: v2Bundle });
    const both = await waitForDeployment(deploymentName, 'version 2.0 to register', (v) =>
      v.versions.some((x) => x.buildId === '2.0'),
    );
    assert.equal(both.current, '1.0');
    // Its workflow and activity pollers register one after the other; the server promotes only a
    // version that polls every queue the current one does.
    // The deployment lists a version a moment before describing it answers (NOT_FOUND until then).
    await waitFor('version 2.0 to poll every task queue of 1.0', async () => {
      const missing = await missingTaskQueues(connection, 'default', { deploymentName, buildId: '2.0' }, '1.0').catch(
        () => undefined,
      );
      return missing?.length === 0 ? true : undefined;
    });

    // The operator promotes it, as the README says.
    await run(cliPath, [
      'worker',
      'deployment',
      'set-current-version',
      '--address',
      server.address,
      '--deployment-name',
      deploymentName,
      '--build-id',
      '2.0',
      '--yes',
    ]);
    const promoted = await waitForDeployment(deploymentName, 'version 2.0 to be current', (v) => v.current === '2.0');
    assert.equal(promoted.versions.find((x) => x.buildId === '1.0')?.status, 'draining');

    // New runs go to version 2 and take its changed code.
    const fresh = await startRun(taskQueue);
    await waitingAtGate(fresh);
    assert.equal((await versioningOf(fresh)).buildId, '2.0');

    // The version-1 worker still runs, but the auto-upgrade run's next task goes to version 2 ...
    await approve(movable);
    assert.equal((await movable.result()).steps.nap?.status, 'completed');
    const movableTasks = await taskBuildIds(movable);
    assert.equal(movableTasks[0], '1.0');
    assert.equal(movableTasks.at(-1), '2.0');
    assert.equal((await versioningOf(movable)).buildId, '2.0');
    // ... which replayed its history without the new timer: patched() saw a run that began before it.
    assert.equal(await tookV2Patch(movable), false);

    // ... while the pinned run's goes to version 1.
    await approve(pinned);
    assert.equal((await pinned.result()).steps.nap?.status, 'completed');
    assert.deepEqual(new Set(await taskBuildIds(pinned)), new Set(['1.0']));

    // No open run is pinned to version 1 any more: it drains, and its worker can stop.
    await waitForDeployment(deploymentName, 'version 1.0 to drain', (v) =>
      v.versions.some((x) => x.buildId === '1.0' && x.status === 'drained'),
    );
    await stopV1();

    await approve(fresh);
    assert.equal((await fresh.result()).steps.nap?.status, 'completed');
    assert.deepEqual(new Set(await taskBuildIds(fresh)), new Set(['2.0']));
    assert.equal(await tookV2Patch(fresh), true, 'version 2 ran its changed code');

    // Without the patched() guard, the same change breaks the run that moved.
    const history = await movable.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: v2Bundle }, history, movable.workflowId);
    const unguarded = await bundleWorkflowCode({
      workflowsPath: require.resolve('../fixtures/changed-workflow'),
      logger: quiet,
    });
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: unguarded }, history, movable.workflowId),
      DeterminismViolationError,
    );
  });

  test('each workflow type runs with the versioning behaviour it declares', async () => {
    const taskQueue = `behaviours-${randomUUID()}`;
    const deploymentName = `orchestrator-${randomUUID().slice(0, 8)}`;
    await startVersionedWorker({ taskQueue, deploymentName, buildId: '1.0', bundle: v1Bundle });
    await waitForDeployment(deploymentName, 'version 1.0 to be current', (v) => v.current === '1.0');
    const expected = (type: keyof typeof VERSIONING_BEHAVIOR) =>
      VersioningBehavior[`VERSIONING_BEHAVIOR_${VERSIONING_BEHAVIOR[type]}`];

    const inventory = await client.workflow.start(MCP_INVENTORY_WORKFLOW, {
      taskQueue,
      workflowId: `inventory-${randomUUID()}`,
      args: [{ timeoutMs: 30_000 }],
    });
    await inventory.result();
    assert.equal((await versioningOf(inventory)).behavior, expected('reportMcpInventory'));

    const deviceId = `dev-${randomUUID().slice(0, 8)}`;
    const lock = await client.workflow.start<typeof deviceLock>(DEVICE_LOCK_WORKFLOW, {
      taskQueue,
      workflowId: deviceLockWorkflowId(deviceId),
      args: [{ deviceId }],
    });
    cleanups.push(async () => void (await lock.terminate('test over').catch(() => undefined)));
    // A lock started on the orchestrator's queue (as before locks moved) runs one task here, then
    // continues on its device's queue: its first run shows the behaviour it ran with.
    const lockBehavior = await waitFor('the lock to run its first task', async () => {
      const v = await versioningOf(lock, lock.firstExecutionRunId);
      return v.buildId ? v.behavior : undefined;
    });
    assert.equal(lockBehavior, expected('deviceLock'));

    const spec = await startRun(taskQueue);
    await waitingAtGate(spec);
    assert.equal((await versioningOf(spec)).behavior, expected('runSpec'));
    await spec.terminate('test over');
  });

  test('npm start on its own dev server (promote always): a restarted worker with new code takes over waiting runs', async () => {
    const taskQueue = `restart-${randomUUID()}`;
    const deploymentName = `orchestrator-${randomUUID().slice(0, 8)}`;
    const stopV1 = await startVersionedWorker({ taskQueue, deploymentName, buildId: '1.0', bundle: v1Bundle });
    await waitForDeployment(deploymentName, 'version 1.0 to be current', (v) => v.current === '1.0');
    const waiting = await startRun(taskQueue);
    await waitingAtGate(waiting);
    await stopV1();

    await startVersionedWorker({ taskQueue, deploymentName, buildId: '2.0', bundle: v2Bundle, promote: 'always' });
    await waitForDeployment(deploymentName, 'version 2.0 to make itself current', (v) => v.current === '2.0');
    await approve(waiting);
    assert.equal((await waiting.result()).steps.nap?.status, 'completed');
    assert.equal((await taskBuildIds(waiting)).at(-1), '2.0');
  });

  test('the worker process is versioned by default: build id from the bundle, first version made current', async () => {
    const taskQueue = `process-${randomUUID()}`;
    const deploymentName = `orchestrator-${randomUUID().slice(0, 8)}`;
    const bundlePath = path.join(mkdtempSync(path.join(tmpdir(), 'bundle-')), 'workflows.js');
    writeFileSync(bundlePath, v1Bundle.code);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'workers/orchestrator.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: server.address,
        ORCHESTRATOR_TASK_QUEUE: taskQueue,
        ORCHESTRATOR_WORKFLOW_BUNDLE: bundlePath,
        WORKER_DEPLOYMENT_NAME: deploymentName,
      },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    cleanups.push(async () => {
      child.kill('SIGTERM');
      await exited;
    });
    const buildId = defaultBuildId(v1Bundle.code);
    assert.match(buildId, /^\d+\.\d+\.\d+-[0-9a-f]{12}$/);
    await waitForDeployment(deploymentName, 'the process to make its version current', (v) => v.current === buildId);

    const handle = await startRun(taskQueue);
    await waitingAtGate(handle);
    assert.equal((await versioningOf(handle)).buildId, buildId);
    await handle.terminate('test over');
  });
});
