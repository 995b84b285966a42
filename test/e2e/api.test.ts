/**
 * End to end through the REST API: a real Temporal dev server, the orchestrator worker in this
 * process (on a task queue of its own), and the Nest app on a free port, driven with fetch.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { INestApplication, LoggerService } from '@nestjs/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../../api/app';
import type { RunDetail, StartRunResponse } from '../../api/workflows/run-views';
import type { TemporalConfig } from '../../temporal/config';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { RunProgress, RunResult } from '../../workflows/contracts/run';
import { testAuth, type TestUser } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';

const EXAMPLE = path.resolve(__dirname, '../../examples/approval-release.spec.yaml');
const UI_URL = 'http://127.0.0.1:8233';

interface Reply<T> {
  status: number;
  body: T;
}
interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  issues?: Array<{ path: string; message: string }>;
}
type Detail = RunDetail & { progress?: RunProgress; result?: RunResult };

/** Keeps what the app logs, so a test can look for a message; errors also go to stderr. */
class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown): void {
    const line = String(message);
    this.lines.push(line);
    if (!line.includes('broken.spec.yaml')) console.error(line);
  }
}

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let app: INestApplication;
let baseUrl: string;
let temporal: TemporalConfig;
const logger = new RecordingLogger();
const tempDirs: string[] = [];
let specStoreDir: string;
let webhookStoreDir: string;
const auth = testAuth();

/** As admin unless `user` says who calls (approvals of approval-release: ana, a release manager). */
async function http<T = ErrorBody>(
  method: string,
  route: string,
  body?: unknown,
  user: TestUser = 'admin',
): Promise<Reply<T>> {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { ...auth.header(user), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

function issuePaths(reply: Reply<ErrorBody>): string[] {
  return (reply.body.issues ?? []).map((i) => i.path);
}

async function waitForDetail(workflowId: string, what: string, done: (d: Detail) => boolean): Promise<Detail> {
  return waitFor(what, async () => {
    const { status, body } = await http<Detail>('GET', `/workflows/${workflowId}`);
    assert.equal(status, 200);
    return done(body) ? body : undefined;
  });
}

const waitingFor = (stepId: string) => (d: Detail) =>
  d.progress?.pendingApprovals.some((p) => p.stepId === stepId) ?? false;

before(async () => {
  env = await createTestEnv();
  temporal = {
    address: env.address,
    namespace: env.namespace ?? 'default',
    uiUrl: UI_URL,
    taskQueue: `api-e2e-${randomUUID()}`,
  };
  worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: loadOrchestratorWorkerConfig({}),
    workflowBundle: await bundleWorkflowsOnce(),
  });
  workerRun = worker.run();

  specStoreDir = await mkdtemp(path.join(tmpdir(), 'api-specs-'));
  const examplesDir = await mkdtemp(path.join(tmpdir(), 'api-examples-'));
  webhookStoreDir = await mkdtemp(path.join(tmpdir(), 'api-webhooks-'));
  tempDirs.push(specStoreDir, examplesDir, webhookStoreDir);
  await copyFile(EXAMPLE, path.join(examplesDir, path.basename(EXAMPLE)));
  await writeFile(
    path.join(examplesDir, 'broken.spec.yaml'),
    'name: broken\nsteps:\n  - { id: wait, kind: sleep, duration: soon }\n',
  );

  app = await createApp({
    temporal,
    auth: auth.auth,
    client: env.client,
    specStoreDir,
    webhookStoreDir,
    examplesDir,
    port: 0,
    logger,
  });
  baseUrl = await app.getUrl();
});

after(async () => {
  await app?.close();
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

test('GET /health reports Temporal reachable', async () => {
  const { status, body } = await http<{ status: string; temporal: { reachable: boolean; address: string } }>(
    'GET',
    '/health',
  );
  assert.equal(status, 200);
  assert.equal(body.status, 'ok');
  assert.equal(body.temporal.reachable, true);
  assert.equal(body.temporal.address, temporal.address);
});

test('GET /docs-json lists every endpoint with zod-generated body schemas', async () => {
  const { status, body } = await http<{
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
    components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
  }>('GET', '/docs-json');
  assert.equal(status, 200);
  for (const p of [
    '/workflows',
    '/workflows/{id}',
    '/workflows/{id}/approvals/{stepId}',
    '/workflows/{id}/cancel',
    '/workflows/{id}/terminate',
    '/specs',
    '/specs/{name}',
    '/health',
  ]) {
    assert.ok(body.paths[p], `missing path ${p}`);
  }
  assert.deepEqual(body.paths['/workflows']?.post?.requestBody?.content['application/json']?.schema, {
    $ref: '#/components/schemas/StartRunBody',
  });
  assert.ok(body.components.schemas.Spec?.properties?.steps, 'Spec schema generated from zod');
  const startRun = body.components.schemas.StartRunBody as { anyOf?: Array<{ required?: string[] }> };
  assert.deepEqual(
    startRun.anyOf?.map((variant) => variant.required),
    [['spec'], ['specName']],
    'exactly one of an inline spec or a registered name',
  );
});

test('example specs are registered at start-up; a broken example is skipped and named in the log', async () => {
  const { status, body } = await http<{ specs: Array<{ name: string; version: number }> }>('GET', '/specs');
  assert.equal(status, 200);
  assert.deepEqual(
    body.specs.map((s) => s.name),
    ['approval-release'],
  );
  const logged = logger.lines.find((l) => l.includes('broken.spec.yaml'));
  assert.ok(logged, 'the broken example is logged');
  assert.match(logged, /steps\[0\]\.duration/);
});

test('POST /specs stores a new version only when the content changes', async () => {
  const spec = { name: 'tiny', steps: [{ id: 'nap', kind: 'sleep', duration: '10ms' }] };
  const first = await http<{ version: number; created: boolean }>('POST', '/specs', spec);
  assert.equal(first.status, 201);
  assert.deepEqual([first.body.version, first.body.created], [1, true]);

  const again = await http<{ version: number; created: boolean }>('POST', '/specs', spec);
  assert.equal(again.status, 200);
  assert.deepEqual([again.body.version, again.body.created], [1, false]);

  const changed = { ...spec, steps: [{ id: 'nap', kind: 'sleep', duration: '20ms' }] };
  const second = await http<{ version: number }>('POST', '/specs', changed);
  assert.equal(second.status, 201);
  assert.equal(second.body.version, 2);

  const jump = await http<{ version: number }>('POST', '/specs', { ...spec, version: 7 });
  assert.equal(jump.body.version, 7, 'an explicit higher version is kept');

  const v1 = await http<{ spec: { steps: Array<{ duration: string }> } }>('GET', '/specs/tiny?version=1');
  assert.equal(v1.body.spec.steps[0]?.duration, '10ms');
  const latest = await http<{ version: number }>('GET', '/specs/tiny');
  assert.equal(latest.body.version, 7);
  assert.equal((await http('GET', '/specs/tiny?version=3')).status, 404);
  assert.equal((await http('GET', '/specs/nope')).status, 404);

  const bad = await http('POST', '/specs', { name: 'Bad Name', steps: [] });
  assert.equal(bad.status, 400);
  assert.deepEqual(issuePaths(bad).sort(), ['name', 'steps']);
});

test('bad input answers 400 naming the field', async () => {
  const badDuration = await http('POST', '/workflows', {
    spec: {
      name: 'bad-duration',
      steps: [
        { id: 'first', kind: 'sleep', duration: '1ms' },
        { id: 'checks', kind: 'parallel', branches: [[{ id: 'wait', kind: 'sleep', duration: 'soon' }]] },
      ],
    },
  });
  assert.equal(badDuration.status, 400);
  assert.equal(badDuration.body.error, 'Bad Request');
  assert.deepEqual(issuePaths(badDuration), ['spec.steps[1].branches[0][0].duration']);
  assert.match(badDuration.body.message, /^spec\.steps\[1\]\.branches\[0\]\[0\]\.duration: /);

  const unknownRef = await http('POST', '/workflows', {
    spec: { name: 'bad-ref', steps: [{ id: 'ask', kind: 'approval', prompt: 'ok? ${steps.nope.output}' }] },
  });
  assert.equal(unknownRef.status, 400);
  assert.deepEqual(issuePaths(unknownRef), ['spec.steps[0]']);
  assert.match(unknownRef.body.issues?.[0]?.message ?? '', /unknown step "nope"/);

  const malformedExpr = await http('POST', '/workflows', {
    spec: { name: 'bad-expr', steps: [{ id: 'ask', kind: 'approval', prompt: '${1x}' }] },
  });
  assert.equal(malformedExpr.status, 400, 'a malformed ${...} is a 400, not a 500');

  const missingInput = await http('POST', '/workflows', { specName: 'approval-release' });
  assert.equal(missingInput.status, 400);
  assert.deepEqual(issuePaths(missingInput), ['inputs.target']);

  const wrongType = await http('POST', '/workflows', { specName: 'approval-release', inputs: { target: 3, extra: 1 } });
  assert.deepEqual(issuePaths(wrongType).sort(), ['inputs.extra', 'inputs.target']);

  const both = await http('POST', '/workflows', {
    specName: 'approval-release',
    spec: { name: 'x', steps: [{ id: 'a', kind: 'sleep', duration: '1ms' }] },
  });
  assert.equal(both.status, 400);
  assert.deepEqual(issuePaths(both), ['specName']);

  const neither = await http('POST', '/workflows', { inputs: {} });
  assert.deepEqual(issuePaths(neither), ['spec']);

  const unregistered = await http('POST', '/workflows', { specName: 'not-there' });
  assert.deepEqual(issuePaths(unregistered), ['specName']);

  const missingChild = await http('POST', '/workflows', {
    spec: { name: 'parent', steps: [{ id: 'sub', kind: 'child', spec: '../../etc' }] },
  });
  assert.equal(missingChild.status, 400);
  assert.deepEqual(issuePaths(missingChild), ['spec']);
  assert.match(missingChild.body.message, /not registered/);

  const badRunId = await http('POST', '/workflows', { specName: 'approval-release', runId: 'has space' });
  assert.deepEqual(issuePaths(badRunId), ['runId']);

  const badQuery = await http('GET', '/workflows?status=Sleeping&pageSize=0');
  assert.equal(badQuery.status, 400);
  assert.deepEqual(issuePaths(badQuery).sort(), ['pageSize', 'status']);

  // The decision says which fields the body takes: a bad one is named alone, then the rest is checked.
  const badDecision = await http('POST', '/workflows/whatever/approvals/approve', { decision: 'maybe', by: '' });
  assert.deepEqual(issuePaths(badDecision), ['decision']);
  const withBy = await http('POST', '/workflows/whatever/approvals/approve', { decision: 'approve', by: '' });
  assert.deepEqual(issuePaths(withBy), ['by']);
});

test('unknown run answers 404', async () => {
  assert.equal((await http('GET', '/workflows/approval-release-does-not-exist')).status, 404);
  const approve = await http(
    'POST',
    '/workflows/approval-release-does-not-exist/approvals/approve',
    { decision: 'approve' },
    'ana',
  );
  assert.equal(approve.status, 404);
  assert.equal((await http('POST', '/workflows/approval-release-does-not-exist/cancel')).status, 404);
});

test('approval run: parallel checks, wait, 409 for a step not waiting, approve, completed; runId is idempotent', async () => {
  const runId = `release-${randomUUID()}`;
  const request = { specName: 'approval-release', inputs: { target: 'staging' }, runId };
  const started = await http<StartRunResponse>('POST', '/workflows', request);
  assert.equal(started.status, 201);
  assert.equal(started.body.created, true);
  assert.equal(started.body.workflowId, `approval-release:${runId}`);
  assert.ok(
    started.body.webUiUrl.startsWith(
      `${UI_URL}/namespaces/${temporal.namespace}/workflows/${encodeURIComponent(`approval-release:${runId}`)}`,
    ),
  );

  const repeated = await http<StartRunResponse>('POST', '/workflows', request);
  assert.equal(repeated.status, 200);
  assert.equal(repeated.body.created, false);
  assert.equal(repeated.body.runId, started.body.runId, 'the same run, not a second one');

  const { workflowId } = started.body;
  const waiting = await waitForDetail(workflowId, 'the approval step to wait', waitingFor('approve'));
  assert.equal(waiting.status, 'running');
  assert.equal(waiting.spec, 'approval-release');
  assert.equal(waiting.specVersion, 1);
  assert.equal(waiting.progress?.phase, 'waiting_approval');
  assert.equal(waiting.progress?.steps.build?.status, 'completed');
  assert.equal(waiting.progress?.steps.smoke?.status, 'completed');
  const pending = waiting.progress?.pendingApprovals[0];
  assert.match(
    pending?.prompt ?? '',
    /Release "routine release" to staging\? Build took 1000 ms, smoke tests 1000 ms\./,
  );

  const notWaiting = await http('POST', `/workflows/${workflowId}/approvals/checks`, { decision: 'approve' }, 'ana');
  assert.equal(notWaiting.status, 409);
  assert.match(notWaiting.body.message, /step "checks" is not waiting for approval/);

  const noChoices = await http(
    'POST',
    `/workflows/${workflowId}/approvals/approve`,
    { decision: 'approve', choice: 'abort' },
    'ana',
  );
  assert.equal(noChoices.status, 409);
  assert.match(noChoices.body.message, /this step offers no choices/);

  const approved = await http<{ decision: string; by: string; at: string }>(
    'POST',
    `/workflows/${workflowId}/approvals/approve`,
    { decision: 'approve', comment: 'ship it' },
    'ana',
  );
  assert.equal(approved.status, 200);
  assert.equal(approved.body.by, 'ana', "the decider is the token's user");

  const done = await waitForDetail(workflowId, 'the run to complete', (d) => d.status === 'completed');
  assert.deepEqual(done.result?.output, {
    target: 'staging',
    approvedBy: 'ana',
    comment: 'ship it',
    releasedAfterMs: 200,
  });
  assert.ok(done.closeTime);

  const late = await http('POST', `/workflows/${workflowId}/approvals/approve`, { decision: 'approve' }, 'admin');
  assert.equal(late.status, 409, 'approving a closed run is a conflict');
  const again = await http<StartRunResponse>('POST', '/workflows', request);
  assert.equal(again.status, 200, 'a closed run is not started twice either');
  assert.equal(again.body.runId, started.body.runId);

  const listed = await waitFor('visibility to list the run', async () => {
    const { body } = await http<{ runs: Array<{ workflowId: string; status: string; spec: string }> }>(
      'GET',
      '/workflows?spec=approval-release&status=Completed',
    );
    return body.runs.find((r) => r.workflowId === workflowId);
  });
  assert.equal(listed.spec, 'approval-release');
  assert.equal(listed.status, 'completed');
});

test('an inline spec runs without registration; the list pages with nextPageToken', async () => {
  const spec = { name: 'inline-nap', steps: [{ id: 'nap', kind: 'sleep', duration: '10ms' }] };
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const started = await http<StartRunResponse>('POST', '/workflows', { spec });
    assert.equal(started.status, 201);
    ids.push(started.body.workflowId);
  }
  for (const id of ids) await waitForDetail(id, `${id} to complete`, (d) => d.status === 'completed');

  const first = await waitFor('both runs in visibility', async () => {
    const reply = await http<{ runs: Array<{ workflowId: string }>; nextPageToken?: string }>(
      'GET',
      '/workflows?spec=inline-nap&pageSize=1',
    );
    return reply.body.nextPageToken ? reply.body : undefined;
  });
  assert.equal(first.runs.length, 1);
  const second = await http<{ runs: Array<{ workflowId: string }> }>(
    'GET',
    `/workflows?spec=inline-nap&pageSize=1&nextPageToken=${first.nextPageToken}`,
  );
  assert.equal(second.status, 200);
  const seen = [...first.runs, ...second.body.runs].map((r) => r.workflowId).sort();
  assert.deepEqual(seen, [...ids].sort());
});

test('a child step runs a registered spec, resolved when the run is submitted', async () => {
  const started = await http<StartRunResponse>('POST', '/workflows', {
    spec: { name: 'parent', steps: [{ id: 'sub', kind: 'child', spec: 'tiny' }] },
  });
  assert.equal(started.status, 201);
  const done = await waitForDetail(started.body.workflowId, 'the parent to complete', (d) => d.status !== 'running');
  assert.equal(done.status, 'completed', JSON.stringify(done.failure));
  assert.deepEqual(done.result?.output, { sub: { nap: { sleptMs: 10 } } });
});

test('cancel a waiting run: it closes as cancelled; terminate another', async () => {
  const started = await http<StartRunResponse>('POST', '/workflows', {
    specName: 'approval-release',
    inputs: { target: 'production' },
  });
  const { workflowId } = started.body;
  await waitForDetail(workflowId, 'the approval step to wait', waitingFor('approve'));

  const cancel = await http<{ status: string }>('POST', `/workflows/${workflowId}/cancel`, { reason: 'not today' });
  assert.equal(cancel.status, 202);
  assert.equal(cancel.body.status, 'cancel_requested');
  const cancelled = await waitForDetail(workflowId, 'the run to be cancelled', (d) => d.status === 'cancelled');
  assert.equal(cancelled.failure?.type, 'CancelledFailure');
  assert.equal((await http('POST', `/workflows/${workflowId}/cancel`)).status, 409);

  const other = await http<StartRunResponse>('POST', '/workflows', {
    specName: 'approval-release',
    inputs: { target: 'production' },
  });
  const terminate = await http<{ status: string }>('POST', `/workflows/${other.body.workflowId}/terminate`, {
    reason: 'wrong target',
  });
  assert.equal(terminate.status, 200);
  const terminated = await waitForDetail(other.body.workflowId, 'termination', (d) => d.status === 'terminated');
  assert.equal(terminated.failure?.type, 'TerminatedFailure');
  assert.match(terminated.failure?.message ?? '', /wrong target/);
});

test('with Temporal down the API still starts: /health 503, runs 503, specs served from disk', async () => {
  const down = await createApp({
    temporal: { ...temporal, address: '127.0.0.1:1' },
    auth: auth.auth,
    specStoreDir,
    webhookStoreDir,
    examplesDir: null,
    port: 0,
    logger: false,
  });
  try {
    const url = await down.getUrl();
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 503);
    const body = (await health.json()) as { status: string; temporal: { reachable: boolean; error?: string } };
    assert.equal(body.status, 'degraded');
    assert.equal(body.temporal.reachable, false);
    assert.ok(body.temporal.error);

    const run = await fetch(`${url}/workflows/anything`, { headers: auth.header('viewer') });
    assert.equal(run.status, 503);
    assert.match(((await run.json()) as ErrorBody).message, /Temporal is unreachable/);

    // The store is files: a second API process on the same directory sees what the first stored.
    const spec = await fetch(`${url}/specs/tiny`, { headers: auth.header('viewer') });
    assert.equal(spec.status, 200);
    assert.equal(((await spec.json()) as { version: number }).version, 7);
  } finally {
    await down.close();
  }
});
