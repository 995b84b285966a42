/**
 * What GET /workflows/:id costs in Temporal calls, counted by a gRPC interceptor on the API's own
 * connection to a real dev server (the worker runs in this process with the test activities):
 * a running run is read afresh on every GET and its answer follows the run; a closed run's answer
 * is kept and served again without a call; a run reset from outside (as the Web UI does) is seen.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runDetailSchema, type RunDetail, type StartRunResponse } from '../../api/workflows/run-views';
import type { TemporalConfig } from '../../temporal/config';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { RunProgress } from '../../workflows/contracts/run';
import { activities as testActivities } from '../fixtures/test-activities';
import { startTestApp, type TestApp } from '../helpers/api-app';
import { testAuth, type TestUser } from '../helpers/api-auth';
import { grpcCallLog } from '../helpers/grpc-calls';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess, testDataEnv, testTemporalConfig } from '../helpers/worker';

type Detail = RunDetail & { progress?: RunProgress };

let env: TestWorkflowEnvironment;
let temporal: TemporalConfig;
let connection: Connection | undefined;
let api: TestApp | undefined;
let stopWorker: (() => Promise<void>) | undefined;
const auth = testAuth();
const calls = grpcCallLog();

async function http<T = Detail>(method: string, route: string, body?: unknown, user: TestUser = 'admin') {
  const res = await fetch(`${api!.baseUrl}${route}`, {
    method,
    headers: { ...auth.header(user), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const url = (workflowId: string, tail = '') => `/workflows/${encodeURIComponent(workflowId)}${tail}`;

async function detail(workflowId: string): Promise<Detail> {
  const reply = await http('GET', url(workflowId));
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  runDetailSchema.parse(reply.body);
  return reply.body;
}

/** GET once, and the Temporal calls the API made to answer it. */
async function counted(workflowId: string): Promise<{ body: Detail; calls: Record<string, number> }> {
  calls.reset();
  const body = await detail(workflowId);
  return { body, calls: calls.counts() };
}

async function start(spec: unknown): Promise<string> {
  const started = await http<StartRunResponse>('POST', '/workflows', { spec });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  return started.body.workflowId;
}

const waitForDetail = (workflowId: string, what: string, done: (d: Detail) => boolean) =>
  waitFor(what, async () => {
    const d = await detail(workflowId);
    return done(d) ? d : undefined;
  });

const echo = (id: string, args: unknown) => ({ id, kind: 'activity', activity: 'test.echo', args });

before(async () => {
  env = await createTestEnv();
  temporal = testTemporalConfig(env, `reads-e2e-${randomUUID()}`);
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: { ...loadOrchestratorWorkerConfig(testDataEnv()), shutdownGraceTimeMs: 1_000 },
    workflowBundle: await bundleWorkflowsOnce(),
    activities: testActivities,
  });
  stopWorker = runInProcess(worker);
  // The API's own connection, with the SDK's retries and the counter behind them.
  connection = await Connection.connect({
    address: env.address,
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), ...calls.interceptors],
  });
  const client = new Client({ connection, namespace: temporal.namespace });
  api = await startTestApp({ temporal, auth: auth.auth, client });
});

after(async () => {
  await api?.stop();
  await connection?.close();
  await stopWorker?.();
  await env?.teardown();
});

test('a running run is read afresh on every GET and follows the run; once closed its answer costs no call', async () => {
  const workflowId = await start({
    name: 'reads-gate',
    steps: [echo('build', { built: true }), { id: 'approve', kind: 'approval' }, echo('release', { released: 1 })],
  });
  const waiting = await waitForDetail(workflowId, 'the approval to wait', (d) =>
    (d.progress?.pendingApprovals ?? []).some((p) => p.stepId === 'approve'),
  );
  assert.equal(waiting.status, 'running');
  assert.equal(waiting.reruns, undefined, 'a running run lists no reruns (only a closed run can be rerun)');

  const again = await counted(workflowId);
  assert.equal(again.body.status, 'running');
  assert.deepEqual(again.body.progress?.current, ['approve']);
  assert.equal(again.calls.DescribeWorkflowExecution, 1, JSON.stringify(again.calls));
  assert.ok((again.calls.GetWorkflowExecutionHistory ?? 0) >= 1, JSON.stringify(again.calls));
  assert.equal(again.calls.ListWorkflowExecutions, undefined, 'no visibility query for a running run');

  const approved = await http('POST', url(workflowId, '/approvals/approve'), { decision: 'approve' }, 'approver');
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  const done = await waitForDetail(workflowId, 'the run to complete', (d) => d.status === 'completed');
  assert.equal(done.progress?.phase, 'completed');
  assert.equal(done.progress?.steps.approve?.status, 'completed');
  assert.deepEqual(done.progress?.steps.release?.output, { released: 1 });
  assert.ok(done.historyLength > waiting.historyLength, 'the answer followed the run');
  assert.deepEqual(done.reruns, []);

  const kept = await counted(workflowId);
  assert.deepEqual(kept.calls, {}, 'a closed run answered again without a Temporal call');
  assert.deepEqual(kept.body, done);
});

test("a failed or terminated run's failure is kept as well", async () => {
  const workflowId = await start({ name: 'reads-nap', steps: [{ id: 'nap', kind: 'sleep', duration: '1h' }] });
  const stopped = await http('POST', url(workflowId, '/terminate'), { reason: 'enough' });
  assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
  const closed = await waitForDetail(workflowId, 'the run to be terminated', (d) => d.status === 'terminated');
  assert.equal(closed.failure?.message, 'enough');

  const kept = await counted(workflowId);
  assert.deepEqual(kept.calls, {});
  assert.deepEqual(kept.body, closed);
});

test('a closed run reset from outside the API (as the Web UI does) is seen once its kept answer is confirmed', async () => {
  const workflowId = await start({ name: 'reads-reset', steps: [echo('a', { n: 1 }), echo('b', { n: 2 })] });
  const first = await waitForDetail(workflowId, 'the run to complete', (d) => d.status === 'completed');
  const history = await env.client.workflow.getHandle(workflowId, first.runId).fetchHistory();
  const firstTask = history.events?.find((e) => e.workflowTaskCompletedEventAttributes);
  assert.ok(firstTask);
  const { runId } = await env.client.workflowService.resetWorkflowExecution({
    namespace: temporal.namespace,
    workflowExecution: { workflowId, runId: first.runId },
    workflowTaskFinishEventId: firstTask.eventId,
    reason: 'test: reset from outside',
    requestId: randomUUID(),
  });
  assert.ok(runId && runId !== first.runId);
  await env.client.workflow.getHandle(workflowId, runId).result();
  const reset = await waitForDetail(workflowId, 'GET to show the reset run', (d) => d.runId === runId);
  assert.equal(reset.status, 'completed');
  assert.deepEqual(reset.progress?.steps.b?.output, { n: 2 });
});
