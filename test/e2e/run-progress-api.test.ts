/**
 * GET /workflows/:id reads a run's progress without waiting on its worker: a real Temporal dev
 * server, the orchestrator worker in this process (with the test activities), the Nest app on a
 * free port. Running and failed runs answer from their history, completed ones from their result;
 * `live=true` asks a running run's worker first. The last tests stop the worker: what GET answers
 * then cannot have come from a query (nor can GET /workflows/:id/steps's statuses).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTestApp, type TestApp } from '../helpers/api-app';
import type { StepTimeline } from '../../api/history/history-views';
import { runDetailSchema, type RunDetail, type StartRunResponse } from '../../api/workflows/run-views';
import type { TemporalConfig } from '../../temporal/config';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { progressQuery, type RunProgress } from '../../workflows/contracts/run';
import { activities as testActivities } from '../fixtures/test-activities';
import { testAuth, type TestUser } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess, testDataEnv, testTemporalConfig } from '../helpers/worker';

interface Reply<T> {
  status: number;
  body: T;
}
type Detail = RunDetail & { progress?: RunProgress };
interface ErrorBody {
  message: string;
  issues?: Array<{ path: string; message: string }>;
}

let env: TestWorkflowEnvironment;
let temporal: TemporalConfig;
let api: TestApp | undefined;
let baseUrl: string;
let stopWorker: (() => Promise<void>) | undefined;
const auth = testAuth();

async function http<T = Detail>(method: string, route: string, body?: unknown, user: TestUser = 'admin') {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { ...auth.header(user), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T } satisfies Reply<T>;
}

const url = (workflowId: string, query = '') => `/workflows/${encodeURIComponent(workflowId)}${query}`;

/** GET /workflows/:id, checked against the schema the OpenAPI document is built from. */
async function detail(workflowId: string, query = ''): Promise<Detail> {
  const reply = await http('GET', url(workflowId, query));
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  runDetailSchema.parse(reply.body);
  return reply.body;
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

/** Step path → status, sorted by path: what the history's and the worker's views must agree on. */
const statuses = (progress: Pick<RunProgress, 'steps'> | undefined) =>
  Object.fromEntries(
    Object.entries(progress?.steps ?? {})
      .map(([p, r]) => [p, r.status] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );

/** The worker's own answer, by replay for a closed run (what `live` would say if it asked). */
const queried = (workflowId: string) => env.client.workflow.getHandle(workflowId).query(progressQuery);

const echo = (id: string, args: unknown) => ({ id, kind: 'activity', activity: 'test.echo', args });

const gatedRelease = {
  name: 'progress-gate',
  steps: [
    {
      id: 'checks',
      kind: 'parallel',
      branches: [[echo('build', { built: true })], [{ id: 'smoke', kind: 'sleep', duration: '10ms' }]],
    },
    { id: 'approve', kind: 'approval', prompt: 'Ship it?' },
    echo('release', { released: true }),
  ],
};

const failingRace = {
  name: 'progress-fail',
  steps: [
    echo('first', { n: 1 }),
    {
      id: 'race',
      kind: 'parallel',
      branches: [
        [{ id: 'wait', kind: 'sleep', duration: '1h' }],
        [{ id: 'boom', kind: 'activity', activity: 'test.fail', args: { message: 'kaput' } }],
      ],
    },
    { id: 'never', kind: 'sleep', duration: '1ms' },
  ],
};

const longNap = {
  name: 'progress-nap',
  steps: [echo('first', { n: 1 }), { id: 'nap', kind: 'sleep', duration: '1h' }],
};

before(async () => {
  env = await createTestEnv();
  temporal = testTemporalConfig(env, `progress-e2e-${randomUUID()}`);
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: { ...loadOrchestratorWorkerConfig(testDataEnv()), shutdownGraceTimeMs: 1_000 },
    workflowBundle: await bundleWorkflowsOnce(),
    activities: testActivities,
  });
  stopWorker = runInProcess(worker);
  api = await startTestApp({ temporal, auth: auth.auth, client: env.client });
  baseUrl = api.baseUrl;
});

after(async () => {
  await api?.stop();
  await stopWorker?.();
  await env?.teardown();
});

test('live=true answers from the worker; the history says the same steps and statuses, before and after the end', async () => {
  const workflowId = await start(gatedRelease);
  const waiting = await waitForDetail(workflowId, 'the approval to wait', (d) =>
    (d.progress?.pendingApprovals ?? []).some((p) => p.stepId === 'approve'),
  );
  assert.equal(waiting.progressSource, 'history');
  assert.equal(waiting.progressError, undefined);
  assert.equal(waiting.progress?.phase, 'waiting_approval');
  assert.deepEqual(waiting.progress?.current, ['approve']);
  assert.deepEqual(statuses(waiting.progress), {
    approve: 'waiting',
    build: 'completed',
    checks: 'completed',
    smoke: 'completed',
  });
  assert.equal(waiting.progress?.steps.build?.output, undefined, 'outputs are not in the history');

  const live = await detail(workflowId, '?live=true');
  assert.equal(live.progressSource, 'live');
  assert.equal(live.progressError, undefined);
  assert.deepEqual(live.progress?.steps.build?.output, { built: true }, 'only the worker knows the output');
  assert.deepEqual(statuses(live.progress), statuses(waiting.progress));
  assert.deepEqual(live.progress?.current, waiting.progress?.current);
  assert.equal(live.progress?.phase, waiting.progress?.phase);
  assert.deepEqual(
    live.progress?.pendingApprovals.map((p) => [p.stepId, p.prompt]),
    waiting.progress?.pendingApprovals.map((p) => [p.stepId, p.prompt]),
  );
  assert.equal((await detail(workflowId, '?live=false')).progressSource, 'history');

  const approved = await http('POST', url(workflowId, '/approvals/approve'), { decision: 'approve' }, 'approver');
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  const done = await waitForDetail(workflowId, 'the run to complete', (d) => d.status === 'completed');
  assert.equal(done.progressSource, 'result');
  assert.equal(done.progress?.phase, 'completed');
  assert.deepEqual(done.progress?.steps.release?.output, { released: true });
  const all = ['approve', 'build', 'checks', 'release', 'smoke'];
  assert.deepEqual(statuses(done.progress), Object.fromEntries(all.map((p) => [p, 'completed'])));
  assert.deepEqual(statuses(await queried(workflowId)), statuses(done.progress));
  assert.equal((await detail(workflowId, '?live=true')).progressSource, 'result', 'a closed run is never asked');
});

let failedId: string;
let failed: Detail;
let nappingId: string;

test('a failed parallel run: the history has the failed step, its error and the cancelled branch, as the worker does', async () => {
  failedId = await start(failingRace);
  nappingId = await start(longNap);
  failed = await waitForDetail(failedId, 'the run to fail', (d) => d.status === 'failed');
  assert.equal(failed.progressSource, 'history');
  assert.equal(failed.progress?.phase, 'failed');
  assert.deepEqual(statuses(failed.progress), {
    boom: 'failed',
    first: 'completed',
    race: 'failed',
    wait: 'cancelled',
  });
  assert.match(failed.progress?.steps.boom?.error ?? '', /kaput/);
  assert.match(failed.failure?.message ?? '', /step "boom" failed/);
  const replayed = await queried(failedId);
  assert.deepEqual(statuses(failed.progress), statuses(replayed));
  assert.equal(failed.progress?.steps.boom?.error, replayed.steps.boom?.error);

  await waitForDetail(nappingId, 'the nap to start', (d) => d.progress?.steps.nap?.status === 'running');
});

test('with the worker stopped: a running run answers from its history, live=true falls back, a closed run is never asked', async () => {
  await stopWorker?.();
  stopWorker = undefined;

  const napping = await detail(nappingId);
  assert.equal(napping.status, 'running');
  assert.equal(napping.progressSource, 'history');
  assert.equal(napping.progressError, undefined, 'nothing was asked');
  assert.deepEqual(napping.progress?.current, ['nap']);
  assert.equal(napping.progress?.phase, 'running');
  assert.deepEqual(statuses(napping.progress), { first: 'completed', nap: 'running' });

  const fallback = await detail(nappingId, '?live=true');
  assert.equal(fallback.progressSource, 'history');
  assert.match(fallback.progressError ?? '', /progress query not answered/);
  assert.deepEqual(statuses(fallback.progress), statuses(napping.progress));

  // The step timeline reads the same way: statuses from the history, no worker asked.
  const timeline = await http<StepTimeline>('GET', url(nappingId, '/steps'));
  assert.equal(timeline.status, 200);
  assert.deepEqual(
    timeline.body.steps.map((s) => [s.path, s.status]),
    [
      ['first', 'completed'],
      ['nap', 'running'],
    ],
  );

  for (const query of ['', '?live=true']) {
    const closed = await detail(failedId, query);
    assert.equal(closed.progressSource, 'history');
    assert.equal(closed.progressError, undefined, 'a closed run is never asked');
    assert.deepEqual(closed.progress, failed.progress, 'no worker, the same answer');
    assert.deepEqual(closed.failure, failed.failure);
  }
});

test('a bad query is a 400 naming the parameter', async () => {
  const bad = await http<ErrorBody>('GET', url(nappingId, '?live=yes'));
  assert.equal(bad.status, 400);
  assert.deepEqual(
    bad.body.issues?.map((i) => i.path),
    ['live'],
  );
  assert.equal((await http<ErrorBody>('GET', url(nappingId, '?verbose=1'))).status, 400);
});
