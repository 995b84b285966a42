/**
 * Debugging a run through the REST API, end to end: a real Temporal dev server, the orchestrator
 * worker in this process (with the test activities), the Nest app on a free port. The model is a
 * stand-in for a hosted one (a local HTTP server speaking the OpenAI wire format) that counts
 * the calls it gets; the test activities write a journal of every call. `npm run replay` runs
 * as a child process, as a user runs it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import {
  replayVerdictSchema,
  rerunResponseSchema,
  stepTimelineSchema,
  workflowHistorySchema,
  type ReplayVerdictView,
  type RerunResponse,
  type StepTimeline,
} from '../../api/history/history-views';
import { runDetailSchema, type RunDetail, type StartRunResponse } from '../../api/workflows/run-views';
import type { TemporalConfig } from '../../temporal/config';
import { parseHistoryJson } from '../../temporal/replay/history';
import { replayHistory } from '../../temporal/replay/replay';
import { HistoryIndex } from '../../temporal/replay/step-events';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { RUN_SPEC_WORKFLOW, type RunInput, type RunResult } from '../../workflows/contracts/run';
import { standInEnv } from '../fixtures/llm/harness';
import { StandInModelServer } from '../fixtures/llm/model-server';
import { gateActivities } from '../fixtures/gate-activities';
import { activities as testActivities } from '../fixtures/test-activities';
import { startTestApp, type TestApp } from '../helpers/api-app';
import { testAuth } from '../helpers/api-auth';
import { newJournal, readJournal, waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess } from '../helpers/worker';

const ROOT = path.resolve(__dirname, '../..');
const DRAFT = 'A stand-in draft about replay.';

interface Reply<T> {
  status: number;
  body: T;
}
interface ErrorBody {
  statusCode: number;
  message: string;
  issues?: Array<{ path: string; message: string }>;
}
type Detail = RunDetail & { result?: RunResult };

let env: TestWorkflowEnvironment;
let server: StandInModelServer;
let temporal: TemporalConfig;
let api: TestApp | undefined;
let baseUrl: string;
let dir: string;
const stops: Array<() => Promise<void>> = [];
const auth = testAuth();

async function http<T = ErrorBody>(method: string, route: string, body?: unknown): Promise<Reply<T>> {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { ...auth.header('admin'), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const url = (workflowId: string, tail = '') => `/workflows/${encodeURIComponent(workflowId)}${tail}`;

/** A bound on a run that would otherwise hang the test (2 cores shared by parallel suites), not a timing assertion. */
const CLOSE_TIMEOUT_MS = 120_000;

async function waitForClosed(workflowId: string): Promise<Detail> {
  return waitFor(
    `${workflowId} to close`,
    async () => {
      const { status, body } = await http<Detail>('GET', url(workflowId));
      assert.equal(status, 200);
      return body.status !== 'running' ? body : undefined;
    },
    CLOSE_TIMEOUT_MS,
  );
}

/** `npm run replay -- args`, as a child process; resolves with its exit code and output. */
function replayCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '--silent', 'replay', '--', ...args],
      { cwd: ROOT, env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: temporal.namespace } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const starts = (journal: string, label: string) =>
  readJournal(journal).filter((e) => e.event === 'start' && e.label === label).length;

/** A model call, a recorded activity, a gate that fails until `flag` exists, and a step reading them all. */
function debugSpec(name: string) {
  return {
    name,
    inputs: { journal: { type: 'string' }, flag: { type: 'string' } },
    steps: [
      { id: 'draft', kind: 'llm', model: 'default', prompt: 'Write about replay.' },
      {
        id: 'fetch',
        kind: 'activity',
        activity: 'test.record',
        args: { journal: '${inputs.journal}', label: 'fetch' },
      },
      {
        id: 'check',
        kind: 'activity',
        activity: 'test.gate',
        args: { journal: '${inputs.journal}', flag: '${inputs.flag}', label: 'check' },
      },
      {
        id: 'publish',
        kind: 'activity',
        activity: 'test.echo',
        args: {
          fetched: '${steps.fetch.output.label}',
          draft: '${steps.draft.output}',
          checked: '${steps.check.output.passed}',
        },
      },
    ],
  };
}

/** Starts `debugSpec` through the API with the gate closed and waits for it to fail at `check`. */
async function failedRun(name: string): Promise<{ workflowId: string; runId: string; journal: string; flag: string }> {
  const journal = newJournal();
  const flag = path.join(dir, `flag-${randomUUID()}`);
  const started = await http<StartRunResponse>('POST', '/workflows', {
    spec: debugSpec(name),
    inputs: { journal, flag },
  });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const closed = await waitForClosed(started.body.workflowId);
  assert.equal(closed.status, 'failed');
  return { workflowId: started.body.workflowId, runId: started.body.runId, journal, flag };
}

before(async () => {
  env = await createTestEnv();
  server = await StandInModelServer.start(() => ({ text: DRAFT, usage: { input: 20, output: 10 } }));
  temporal = {
    address: env.address,
    namespace: env.namespace ?? 'default',
    uiUrl: 'http://127.0.0.1:8233',
    taskQueue: `history-e2e-${randomUUID()}`,
  };
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: { ...loadOrchestratorWorkerConfig(standInEnv(server)), shutdownGraceTimeMs: 5_000 },
    workflowBundle: await bundleWorkflowsOnce(),
    activities: { ...testActivities, ...gateActivities },
  });
  stops.push(runInProcess(worker));
  api = await startTestApp({ temporal, auth: auth.auth, client: env.client });
  ({ baseUrl, dir } = api);
});

after(async () => {
  await api?.stop();
  for (const stop of stops.reverse()) await stop();
  await server?.close();
  await env?.teardown();
});

describe('debug a failed run', () => {
  test('steps and history of a failed run; its history replayed; a rerun from the failed step', async () => {
    const run = await failedRun('debug-rerun');
    const { workflowId } = run;

    const timeline = await http<StepTimeline>('GET', url(workflowId, '/steps'));
    assert.equal(timeline.status, 200);
    // Every body below is also checked against the schema the OpenAPI document is built from.
    stepTimelineSchema.parse(timeline.body);
    assert.deepEqual(timeline.body.runs, [run.runId]);
    const byPath = Object.fromEntries(timeline.body.steps.map((s) => [s.path, s]));
    assert.deepEqual(
      timeline.body.steps.map((s) => s.path),
      ['draft', 'fetch', 'check'],
    );
    assert.equal(byPath.draft?.kind, 'llm');
    assert.equal(byPath.draft?.status, 'completed');
    assert.equal(byPath.draft?.activities, 1);
    assert.equal(byPath.draft?.attempts, 1);
    assert.equal(byPath.check?.status, 'failed');
    assert.match(byPath.check?.failure ?? '', /gate closed/);
    assert.ok(byPath.check?.startedAt && byPath.check.finishedAt);
    assert.ok(timeline.body.steps.every((s) => !s.reused && s.runId === run.runId));

    const history = await http<{ events: Array<{ eventId: string; eventType: string }> }>(
      'GET',
      url(workflowId, '/history'),
    );
    assert.equal(history.status, 200);
    workflowHistorySchema.parse(history.body);
    assert.equal(history.body.events[0]?.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
    assert.equal(history.body.events.at(-1)?.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
    // The file a user downloads replays as it is (test/replay-cli.test.ts runs `npm run replay` on files).
    const downloaded = parseHistoryJson(JSON.stringify(history.body));
    const offline = await replayHistory(downloaded, workflowId, await bundleWorkflowsOnce());
    assert.equal(offline.outcome, 'deterministic', offline.message);

    const replay = await http<ReplayVerdictView>('POST', url(workflowId, '/replay'));
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    replayVerdictSchema.parse(replay.body);
    assert.equal(replay.body.outcome, 'deterministic');
    assert.equal(replay.body.runId, run.runId);
    assert.equal(replay.body.events, history.body.events.length);

    const unknownStep = await http('POST', url(workflowId, '/rerun'), { fromStep: 'nope' });
    assert.equal(unknownStep.status, 400);
    assert.deepEqual(
      unknownStep.body.issues?.map((i) => i.path),
      ['fromStep'],
    );
    assert.match(unknownStep.body.message, /its steps: draft, fetch, check, publish/);
    const pastFailure = await http('POST', url(workflowId, '/rerun'), { fromStep: 'publish' });
    assert.equal(pastFailure.status, 400);
    assert.match(pastFailure.body.message, /step "check" before "publish" was failed .* one of: draft, fetch, check$/);

    // The fault is fixed; the rerun must not call the model or run `fetch` again.
    await writeFile(run.flag, 'open');
    const modelCalls = server.exchanges.length;
    assert.equal(modelCalls, 1);
    const request = { fromStep: 'check', runId: `fix-${randomUUID()}` };
    const rerun = await http<RerunResponse>('POST', url(workflowId, '/rerun'), request);
    assert.equal(rerun.status, 201, JSON.stringify(rerun.body));
    rerunResponseSchema.parse(rerun.body);
    const link = { workflowId, runId: run.runId, kind: 'rerun', fromStep: 'check' };
    assert.deepEqual(rerun.body.rerunOf, link);
    assert.deepEqual(rerun.body.reusedSteps, ['draft', 'fetch']);
    const again = await http<RerunResponse>('POST', url(workflowId, '/rerun'), request);
    assert.equal(again.status, 200, 'the same request again is the same run');
    assert.equal(again.body.runId, rerun.body.runId);

    const done = await waitForClosed(rerun.body.workflowId);
    assert.equal(done.status, 'completed', JSON.stringify(done.failure));
    assert.deepEqual((done.result?.output as Record<string, unknown>).publish, {
      fetched: 'fetch',
      draft: DRAFT,
      checked: 'check',
    });
    assert.equal(server.exchanges.length, modelCalls, 'the stand-in model saw no repeated call');
    assert.equal(starts(run.journal, 'fetch'), 1, '`fetch` did not run again');
    assert.equal(starts(run.journal, 'check'), 2, '`check` ran again, from where the run failed');
    assert.deepEqual(done.rerunOf, link);

    const rerunSteps = await http<StepTimeline>('GET', url(rerun.body.workflowId, '/steps'));
    const reused = Object.fromEntries(rerunSteps.body.steps.map((s) => [s.path, s.reused]));
    assert.deepEqual(reused, { draft: true, fetch: true, check: false, publish: false });
    assert.equal(rerunSteps.body.steps.find((s) => s.path === 'fetch')?.activities, 0);

    const old = await waitFor('the old run to list its rerun', async () => {
      const { body } = await http<Detail>('GET', url(workflowId));
      return body.reruns?.length ? body : undefined;
    });
    runDetailSchema.parse(old);
    assert.deepEqual(
      old.reruns?.map((r) => [r.workflowId, r.kind, r.fromStep]),
      [[rerun.body.workflowId, 'rerun', 'check']],
    );
  });

  test('a run that continued as new: its steps across the chain, and a rerun finds outputs in earlier executions', async () => {
    const journal = newJournal();
    const record = (id: string) => ({ id, kind: 'activity', activity: 'test.record', args: { journal, label: id } });
    const spec = {
      name: 'chain',
      steps: [
        record('a'),
        { id: 'b', kind: 'activity', activity: 'test.echo', args: { from: '${steps.a.output.label}' } },
        record('c'),
        record('d'),
      ],
      // a's output is read by b only: the executions after b's no longer carry it.
      output: { b: '${steps.b.output.from}', d: '${steps.d.output.label}' },
    };
    const started = await http<StartRunResponse>('POST', '/workflows', {
      spec,
      options: { continueAsNewAfterSteps: 1 },
    });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const done = await waitForClosed(started.body.workflowId);
    assert.equal(done.status, 'completed', JSON.stringify(done.failure));

    const timeline = await http<StepTimeline>('GET', url(started.body.workflowId, '/steps'));
    assert.equal(timeline.status, 200);
    assert.equal(timeline.body.runs.length, 4, 'one execution per step');
    assert.deepEqual(
      timeline.body.steps.map((s) => [s.path, s.status, s.runId]),
      ['a', 'b', 'c', 'd'].map((id, i) => [id, 'completed', timeline.body.runs[i]]),
    );

    const rerun = await http<RerunResponse>('POST', url(started.body.workflowId, '/rerun'), { fromStep: 'b' });
    assert.equal(rerun.status, 201, JSON.stringify(rerun.body));
    assert.deepEqual(rerun.body.reusedSteps, ['a']);
    const again = await waitForClosed(rerun.body.workflowId);
    assert.equal(again.status, 'completed', JSON.stringify(again.failure));
    assert.deepEqual(again.result?.output, { b: 'a', d: 'd' }, "b read a's output, found in the first execution");
    assert.deepEqual(
      ['a', 'c', 'd'].map((label) => starts(journal, label)),
      [1, 2, 2],
    );
  });

  test('retry restarts a failed run as it was; a running or completed run is a 409', async () => {
    const run = await failedRun('debug-retry');
    await writeFile(run.flag, 'open');
    const modelCalls = server.exchanges.length;
    const retry = await http<RerunResponse>('POST', url(run.workflowId, '/retry'));
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    assert.deepEqual(retry.body.rerunOf, {
      workflowId: run.workflowId,
      runId: run.runId,
      kind: 'retry',
      fromStep: null,
    });
    assert.deepEqual(retry.body.reusedSteps, []);
    const done = await waitForClosed(retry.body.workflowId);
    assert.equal(done.status, 'completed', JSON.stringify(done.failure));
    assert.equal(starts(run.journal, 'fetch'), 2, 'every step ran again');
    assert.equal(server.exchanges.length, modelCalls + 1, 'the model was called again');
    assert.equal(done.rerunOf?.kind, 'retry');

    const completed = await http('POST', url(retry.body.workflowId, '/retry'), {});
    assert.equal(completed.status, 409);
    assert.match(completed.body.message, /is completed: only a run that failed/);

    const sleeper = await http<StartRunResponse>('POST', '/workflows', {
      spec: { name: 'sleeper', steps: [{ id: 'nap', kind: 'sleep', duration: '1h' }] },
    });
    for (const [route, body] of [
      ['/retry', {}],
      ['/rerun', { fromStep: 'nap' }],
    ] as const) {
      const running = await http('POST', url(sleeper.body.workflowId, route), body);
      assert.equal(running.status, 409, route);
      assert.match(running.body.message, /is running: cancel or terminate it first/);
    }
    await http('POST', url(sleeper.body.workflowId, '/terminate'), {});
  });

  test('a run recorded by changed workflow code: replay names the event, what differs and the step', async () => {
    // A worker with a deliberately changed interpreter (an extra timer first) records the run.
    const changed = await bundleWorkflowCode({
      workflowsPath: require.resolve('../fixtures/changed-workflow'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    const taskQueue = `old-code-${randomUUID()}`;
    const oldWorker = await createOrchestratorWorker({
      connection: env.nativeConnection,
      temporal: { ...temporal, taskQueue },
      config: loadOrchestratorWorkerConfig({}),
      workflowBundle: changed,
      activities: testActivities,
    });
    const stopOld = runInProcess(oldWorker);
    const workflowId = `old-code-${randomUUID()}`;
    try {
      const input: RunInput = {
        spec: { name: 'old-code', steps: [{ id: 'first', kind: 'activity', activity: 'test.echo', args: { n: 1 } }] },
        inputs: {},
      };
      await env.client.workflow.execute(RUN_SPEC_WORKFLOW, { taskQueue, workflowId, args: [input] });
    } finally {
      await stopOld();
    }

    const replay = await http<ReplayVerdictView>('POST', url(workflowId, '/replay'));
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    replayVerdictSchema.parse(replay.body);
    assert.equal(replay.body.outcome, 'nondeterministic');
    const d = replay.body.divergence;
    assert.equal(d?.eventId, 5);
    assert.equal(d?.eventType, 'TimerStarted');
    assert.match(d?.recorded ?? '', /timer/);
    assert.equal(d?.stepPath, 'first');
    assert.match(replay.body.message, /^At event 5 \(TimerStarted\) the history recorded .*patched\(\)/);

    const cli = await replayCli([workflowId]);
    assert.equal(cli.code, 1, cli.stdout + cli.stderr);
    assert.match(cli.stdout, /NOT deterministic/);
    assert.match(cli.stdout, /event: +5 \(TimerStarted\)/);
    assert.match(cli.stdout, /step: +first/);
  });
});

test("the Web UI's reset to the workflow task after a step: earlier steps are not executed again", async () => {
  const journal = newJournal();
  const record = (label: string, extra: Record<string, unknown> = {}) => ({
    id: label,
    kind: 'activity',
    activity: 'test.record',
    args: { journal, label, ...extra },
  });
  const started = await http<StartRunResponse>('POST', '/workflows', {
    spec: { name: 'reset-me', steps: [record('a'), record('b', { after: '${steps.a.output.label}' }), record('c')] },
  });
  const first = await waitForClosed(started.body.workflowId);
  assert.equal(first.status, 'completed');

  // The reset point the Web UI offers: the workflow task completed after step a's activity completed.
  const handle = env.client.workflow.getHandle(started.body.workflowId, started.body.runId);
  const index = new HistoryIndex(await handle.fetchHistory(), started.body.workflowId);
  const aDone = index.events.find((e) => e.activityTaskCompletedEventAttributes && index.stepPathOf(e) === 'a');
  assert.ok(aDone, 'step a completed');
  const resetPoint = index.events.find(
    (e) => e.workflowTaskCompletedEventAttributes && Number(e.eventId) > Number(aDone.eventId),
  );
  assert.ok(resetPoint);
  const { runId } = await env.client.workflowService.resetWorkflowExecution({
    namespace: temporal.namespace,
    workflowExecution: { workflowId: started.body.workflowId, runId: started.body.runId },
    workflowTaskFinishEventId: resetPoint.eventId,
    reason: 'test: reset after step a',
    requestId: randomUUID(),
  });
  assert.ok(runId);
  const result = (await env.client.workflow.getHandle(started.body.workflowId, runId).result()) as RunResult;
  assert.deepEqual(result.output, first.result?.output, 'the reset run ends as the first did');
  assert.deepEqual(
    ['a', 'b', 'c'].map((label) => starts(journal, label)),
    [1, 2, 2],
    'a ran once; b and c ran again after the reset',
  );
});

test('unknown runs are 404, bad ids and queries 400; the document lists every status', async () => {
  const missing = 'debug-nope:does-not-exist';
  for (const [method, tail, body] of [
    ['GET', '/history'],
    ['GET', '/steps'],
    ['POST', '/replay'],
    ['POST', '/rerun', { fromStep: 'a' }],
    ['POST', '/retry'],
  ] as const) {
    assert.equal((await http(method, url(missing, tail), body)).status, 404, `${method} ${tail}`);
  }
  const badRunId = await http('GET', url(missing, '/history?runId=not-a-uuid'));
  assert.equal(badRunId.status, 400);
  assert.deepEqual(
    badRunId.body.issues?.map((i) => i.path),
    ['runId'],
  );
  assert.equal((await http('GET', url(missing, '/steps?other=1'))).status, 400);
  const badBody = await http('POST', url(missing, '/rerun'), { fromStep: '1 bad', extra: true });
  assert.deepEqual(badBody.body.issues?.map((i) => i.path).sort(), ['extra', 'fromStep']);

  const { body: doc } = await http<{ paths: Record<string, Record<string, { responses: object }>> }>(
    'GET',
    '/docs-json',
  );
  const statuses = (p: string, method: string) => Object.keys(doc.paths[p]?.[method]?.responses ?? {}).sort();
  // Every operation here needs a token (401) and a role (403).
  const temporalFailures = ['401', '403', '502', '503', '504'];
  const sorted = (...codes: string[]) => codes.sort();
  assert.deepEqual(statuses('/workflows/{id}/history', 'get'), sorted('200', '400', '404', ...temporalFailures));
  assert.deepEqual(statuses('/workflows/{id}/steps', 'get'), sorted('200', '400', '404', ...temporalFailures));
  assert.deepEqual(statuses('/workflows/{id}/replay', 'post'), sorted('200', '400', '404', '413', ...temporalFailures));
  for (const route of ['rerun', 'retry']) {
    assert.deepEqual(
      statuses(`/workflows/{id}/${route}`, 'post'),
      sorted('200', '201', '400', '404', '409', '413', ...temporalFailures),
    );
  }
});
