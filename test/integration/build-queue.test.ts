/**
 * The build queue: builds run on the `build` task queue, whose worker has a fixed number of
 * slots; the output names the artifact; cancelling a build kills its process group.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { loadBuildWorkerConfig } from '../../workers/build-config';
import { createBuildWorker } from '../../workers/build-worker';
import type { BuildResult } from '../../workflows/contracts/build';
import type { Spec } from '../../workflows/contracts/spec';
import { fakeBuildWorkspace } from '../fixtures/device/builds';
import { maxOverlap, readJournal, waitFor } from '../helpers/journal';
import { useOrchestrator } from '../helpers/orchestrator';

const orch = useOrchestrator();

async function withBuildWorker<T>(configFile: string, slots: number, fn: () => Promise<T>): Promise<T> {
  const config = loadBuildWorkerConfig({
    BUILD_CONFIG: configFile,
    BUILD_SLOTS: String(slots),
    BUILD_SHUTDOWN_GRACE: '2s',
  });
  const worker: Worker = await createBuildWorker({
    connection: orch.env.nativeConnection,
    temporal: { namespace: orch.env.namespace ?? 'default' },
    config,
  });
  return worker.runUntil(fn);
}

const buildSpec = (target: string): Spec => ({
  name: 'build-one',
  steps: [{ id: 'build', kind: 'build', workspace: 'firmware', target, timeout: '1m', heartbeatTimeout: '5s' }],
});

test('10 builds with a cap of 4 never run more than 4 at once, and each names its artifact', async () => {
  const ws = fakeBuildWorkspace({ FAKE_BUILD_MS: '600' });
  await withBuildWorker(ws.configFile, 4, async () => {
    const handles = await Promise.all(Array.from({ length: 10 }, (_, i) => orch.start(buildSpec(`esp32-s3-${i}`))));
    const results = await Promise.all(handles.map((h) => h.result()));
    for (const [i, r] of results.entries()) {
      const out = r.steps.build?.output as BuildResult;
      assert.equal(out.target, `esp32-s3-${i}`);
      assert.ok(existsSync(out.artifact), `artifact ${out.artifact} exists`);
      assert.match(out.logTail, /SUCCESS/);
      assert.equal(out.bytes, 8192);
    }
  });
  const entries = readJournal(ws.journal).map((e) => ({ ...e, label: (e as unknown as { target: string }).target }));
  assert.equal(entries.filter((e) => e.event === 'start').length, 10);
  const peak = maxOverlap(entries);
  console.log(`build queue: 10 builds, cap 4, peak concurrency ${peak}`);
  assert.ok(peak <= 4, `peak concurrency ${peak} exceeds the cap of 4`);
  assert.equal(peak, 4, 'the cap was reached (builds were queued, not serialised)');
});

test('a failing build fails the step with its log tail; an unknown workspace is refused', async () => {
  const ws = fakeBuildWorkspace({ FAKE_BUILD_MS: '50', FAKE_BUILD_FAIL: '1' });
  await withBuildWorker(ws.configFile, 2, async () => {
    const failed = await orch.start(buildSpec('broken'));
    const err = await failed.result().then(
      () => assert.fail('the build should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(String(err.cause?.message), /exited with 1.*undefined reference to 'app_main'/);

    const unknown = await orch.start({
      name: 'build-unknown',
      steps: [{ id: 'build', kind: 'build', workspace: 'nope' }],
    });
    await assert.rejects(
      unknown.result(),
      (e: unknown) =>
        e instanceof WorkflowFailedError &&
        /no build workspace "nope" \(configured: firmware\)/.test(String(e.cause?.message)),
    );
  });
});

test('cancelling a running build kills its whole process group', async () => {
  const ws = fakeBuildWorkspace({ FAKE_BUILD_MS: '60000' });
  await withBuildWorker(ws.configFile, 1, async () => {
    const handle = await orch.start(buildSpec('long'));
    const started = await waitFor('the build to start', () => readJournal(ws.journal).find((e) => e.event === 'start'));
    const { pid, helperPid } = started as unknown as { pid: number; helperPid: number };
    await handle.cancel();
    await assert.rejects(handle.result());
    const alive = (p: number) => {
      try {
        process.kill(p, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor('build and helper to exit', () => !alive(pid) && !alive(helperPid), 10_000);
    const progress = await handle.describe();
    assert.equal(progress.status.name, 'CANCELLED');
  });
});
