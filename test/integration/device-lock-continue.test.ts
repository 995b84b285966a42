/**
 * Long-lived device holding with bounded history, on a real dev server and a simulated board on
 * a pty pair: the device lock continues as new every few grants and keeps its queue order, its
 * holder and its tokens across it (a stale token stays refused), and a long session renews its
 * lease from a keeper child workflow that continues as new, so the session's own history does
 * not grow with the renewals. Every execution's history is measured and replayed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { deviceLock, DeviceLockInput } from '../../workflows/device-lock';
import { type Spec } from '../../workflows/contracts/spec';
import { DEVICE_LOCK_WORKFLOW, deviceLockWorkflowId, deviceTaskQueue } from '../../workflows/contracts/device';
import { DEVICE_LEASE_KEEPER_WORKFLOW, LEASE_RENEWALS_PER_RUN } from '../../workflows/steps/device-lease-keeper';
import { useDeviceBed } from '../fixtures/device/bed';
import { startAwayHolder } from '../fixtures/device/harness';
import { describeSizes, measureExecutions } from '../helpers/history-size';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce } from '../helpers/temporal';

const GRANTS_PER_RUN = 2;
const bed = useDeviceBed({
  boards: [{ id: 'k1', rig: { blockDelayMs: 2 }, worker: false }],
  // The lock, started on the device's queue before the device worker (which then only configures
  // it), continues as new after every second grant.
  async setUp({ env, startWorker }) {
    await env.client.workflow.start<typeof deviceLock>(DEVICE_LOCK_WORKFLOW, {
      workflowId: deviceLockWorkflowId('k1'),
      taskQueue: deviceTaskQueue('k1'),
      args: [{ deviceId: 'k1', grantsPerRun: GRANTS_PER_RUN }],
    });
    await startWorker();
  },
});

const commands = () =>
  bed
    .rig()
    .events()
    .filter((e) => e.event === 'command')
    .map((e) => String(e.line));

const session = (name: string, steps: Spec['steps'], lease?: string): Spec => ({
  name,
  steps: [{ id: 'flash', kind: 'device_session', device: 'k1', ...(lease && { lease }), steps }],
});
const pattern = (id: string, label: string) => ({
  id,
  kind: 'device_command' as const,
  send: `pattern ${label}`,
  expect: '^PATTERN',
});

/** The state each run of the lock's chain started with, from `fromRunId` on (its input as recorded). */
async function carriedStates(fromRunId: string): Promise<Array<{ runId: string; input: DeviceLockInput }>> {
  const sizes = await measureExecutions(bed.env.client, deviceLockWorkflowId('k1'), fromRunId);
  const out = [];
  for (const s of sizes) {
    const history = await bed.env.client.workflow.getHandle(s.workflowId, s.runId).fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    out.push({ runId: s.runId, input: JSON.parse(Buffer.from(payload?.data ?? []).toString('utf8')) });
  }
  return out;
}

test('the lock continues as new between grants: the queue keeps its order and the holder its token', async () => {
  const holder = await bed.orch.start(
    session('first-holder', [pattern('a', 'h0'), { id: 'b', kind: 'sleep', duration: '5s' }]),
  );
  await waitFor(
    'the first run to hold the board',
    async () => (await bed.lockView()).holder?.workflowId === holder.workflowId,
  );
  const fromRun = (await bed.lock().describe()).runId;
  const before = await bed.lockView();

  // Five runs queue one after the other, so their order in the queue is known.
  const waiters = [];
  for (let i = 1; i <= 5; i++) {
    const w = await bed.orch.start(session(`waiter-${i}`, [pattern('p', `w${i}`)]));
    await waitFor(`waiter ${i} to queue`, async () =>
      (await bed.lockView()).waiting.some((x) => x.workflowId === w.workflowId),
    );
    waiters.push(w);
  }
  await holder.result();
  for (const w of waiters) assert.equal((await w.result()).steps.flash?.status, 'completed');

  // The board saw them in queue order.
  const seen = commands().filter((c) => /^pattern (h0|w\d)$/.test(c));
  assert.deepEqual(seen.slice(-6), [
    'pattern h0',
    'pattern w1',
    'pattern w2',
    'pattern w3',
    'pattern w4',
    'pattern w5',
  ]);

  // The lock continued as new in between, carrying a holder and a queue still in order.
  const states = await carriedStates(fromRun);
  const continued = states.slice(1);
  assert.ok(continued.length >= 2, `the lock continued as new (${continued.length} times)`);
  const order = waiters.map((w) => w.workflowId);
  const carriedWithQueue = continued.filter((s) => (s.input.state?.waiting.length ?? 0) >= 2 && s.input.state?.holder);
  assert.ok(carriedWithQueue.length >= 1, 'some run began with a holder and a queue');
  for (const { input } of continued) {
    const queue = input.state?.waiting.map((w) => w.workflowId) ?? [];
    const positions = queue.map((id) => order.indexOf(id));
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
      'the carried queue is in arrival order',
    );
  }
  // A holder granted in one run released in the next: its token was carried and still matched.
  const after = await bed.lockView();
  assert.equal(after.holder, undefined, 'every hold was released');
  assert.equal(after.stats.grants, before.stats.grants + 5);
  assert.equal(after.nextToken, before.nextToken + 5, 'one new token per grant, none reissued');
  assert.equal(after.stats.leasesExpired, before.stats.leasesExpired, 'no lease ran out on the way');

  const bundle = await bundleWorkflowsOnce();
  for (const s of states) {
    const history = await bed.env.client.workflow.getHandle(deviceLockWorkflowId('k1'), s.runId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: bundle }, history, deviceLockWorkflowId('k1'));
  }
});

test('a token whose lease ran out before the lock continued as new is still refused after it', async () => {
  const spec = session(
    'stale-across-can',
    [pattern('first', 's0'), { id: 'think', kind: 'sleep', duration: '3s' }, pattern('second', 'stale')],
    '2s',
  );
  // The holder runs on an orchestrator of its own, stopped and started again below.
  const holder = await startAwayHolder(bed.env, spec);
  await waitFor('the holder to use the board', () => commands().includes('pattern s0'));
  const token = (await bed.lockView()).holder?.token;
  assert.ok(token);
  const runBefore = (await bed.lock().describe()).runId;

  // Its workers go away: the lease runs out, and two more grants make the lock continue as new.
  await holder.leave();
  for (const label of ['n1', 'n2']) {
    const next = await bed.orch.start(session(`next-${label}`, [pattern('p', label)]));
    assert.equal((await next.result()).steps.flash?.status, 'completed');
  }
  assert.notEqual((await bed.lock().describe()).runId, runBefore, 'the lock continued as new meanwhile');
  assert.ok((await bed.lockView()).nextToken > token + 2);

  assert.match(await holder.comeBack(), /fencing token \d+ (does not hold device "k1"|is older than token \d+)/);
  assert.ok(!commands().includes('pattern stale'), 'the stale holder never reached the board');
});

test('a long session renews its lease from a keeper that continues as new; the run itself stays small', async () => {
  const lease = 2000;
  // Room for three keeper runs' renewals (one every lease/3, plus the time a renewal takes).
  const holdMs = LEASE_RENEWALS_PER_RUN * lease;
  const before = await bed.lockView();
  const run = await bed.orch.start(
    session(
      'long-session',
      [pattern('start', 'long0'), { id: 'hold', kind: 'sleep', duration: `${holdMs}ms` }, pattern('end', 'long1')],
      `${lease}ms`,
    ),
  );
  const result = await run.result();
  assert.equal(result.steps.flash?.status, 'completed');
  assert.ok(commands().includes('pattern long1'), 'the holder still acted at the end: its token held throughout');
  assert.equal((await bed.lockView()).stats.leasesExpired, before.stats.leasesExpired, 'the lease never ran out');

  const runId = (await run.describe()).runId;
  const sizes = await measureExecutions(bed.env.client, run.workflowId, runId);
  const kindOf = (s: { workflowId: string }) => (s.workflowId === run.workflowId ? 'session run' : 'lease keeper runs');
  console.log(describeSizes(`a ${holdMs / 1000} s session with a ${lease / 1000} s lease:`, sizes, kindOf));
  const keepers = sizes.filter((s) => s.workflowId !== run.workflowId);
  assert.ok(keepers.length >= 2, `the keeper continued as new (${keepers.length} executions)`);
  const keeperType = await bed.env.client.workflow.getHandle(keepers[0]!.workflowId).describe();
  assert.equal(keeperType.type, DEVICE_LEASE_KEEPER_WORKFLOW);

  // The session's own history holds no renewal: they are all in the keeper's runs.
  const renewals = async (workflowId: string, id: string) => {
    const history = await bed.env.client.workflow.getHandle(workflowId, id).fetchHistory();
    return (history.events ?? []).filter(
      (e) =>
        e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED &&
        e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'deviceLockRenew',
    ).length;
  };
  assert.equal(await renewals(run.workflowId, runId), 0);
  let renewed = 0;
  for (const k of keepers) renewed += await renewals(k.workflowId, k.runId);
  assert.ok(renewed >= LEASE_RENEWALS_PER_RUN, `${renewed} renewals by the keeper`);
  const own = sizes.find((s) => s.workflowId === run.workflowId);
  assert.ok(own && own.events < 100, `the session run has ${own?.events} events`);

  const bundle = await bundleWorkflowsOnce();
  for (const s of sizes) {
    const history = await bed.env.client.workflow.getHandle(s.workflowId, s.runId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: bundle }, history, s.workflowId);
  }
});
