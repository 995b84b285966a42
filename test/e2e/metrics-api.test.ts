/**
 * GET /metrics through the REST API: a real Temporal dev server, the orchestrator worker in this
 * process and the Nest app with the real guard. Runs started through POST /workflows show up as
 * runs by spec and status and as pending approvals, read from the visibility store; requests are
 * counted by route template; no label holds a workflow or run id.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { StartRunResponse } from '../../api/workflows/run-views';
import type { RunProgress } from '../../workflows/contracts/run';
import { testAuth, type TestUser } from '../helpers/api-auth';
import { startTestApp, type TestApp } from '../helpers/api-app';
import { waitFor } from '../helpers/journal';
import { startOrchestrator, type Orchestrator } from '../helpers/orchestrator';
import { createTestEnv } from '../helpers/temporal';
import { testTemporalConfig } from '../helpers/worker';

let env: TestWorkflowEnvironment;
let orchestrator: Orchestrator;
let api: TestApp;
const auth = testAuth();
const started: StartRunResponse[] = [];

const quick = { name: 'metrics-quick', steps: [{ id: 'nap', kind: 'sleep', duration: '10ms' }] };
const gated = { name: 'metrics-gated', steps: [{ id: 'gate', kind: 'approval', prompt: 'Go?' }] };
const inline = { name: 'metrics-inline', steps: [{ id: 'nap', kind: 'sleep', duration: '10ms' }] };

async function call<T>(method: string, route: string, as: TestUser | null, body?: unknown) {
  const res = await fetch(`${api.baseUrl}${route}`, {
    method,
    headers: {
      ...(as === null ? {} : auth.header(as)),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, text, body: (type.includes('json') ? JSON.parse(text) : undefined) as T };
}

async function startRun(request: object): Promise<StartRunResponse> {
  const { status, body } = await call<StartRunResponse>('POST', '/workflows', 'operator', request);
  assert.equal(status, 201);
  started.push(body);
  return body;
}

/** `name{labels} value` lines of a Prometheus exposition, as [name, labels, value]. */
function samples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(m, `not an exposition line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[k as string] = v as string;
      }
      return { name: m[1] as string, labels, value: Number(m[3]) };
    });
}

const valueOf = (text: string, name: string, labels: Record<string, string>) =>
  samples(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

before(async () => {
  env = await createTestEnv();
  orchestrator = await startOrchestrator(env);
  api = await startTestApp({
    temporal: testTemporalConfig(env, orchestrator.taskQueue),
    client: env.client,
    auth: auth.auth,
    // Every scrape reads the visibility store afresh, so a test can wait for a figure to appear.
    metricsCacheMs: 0,
  });
  for (const spec of [quick, gated]) assert.equal((await call('POST', '/specs', 'admin', spec)).status, 201);
});

after(async () => {
  await api?.stop();
  await orchestrator?.stop();
  await env?.teardown();
});

test('GET /metrics needs a token like every route, and any role may read it', async () => {
  assert.equal((await call('GET', '/metrics', null)).status, 401);
  const { status, type, text } = await call('GET', '/metrics', 'viewer');
  assert.equal(status, 200);
  assert.match(type, /^text\/plain;.*version=0\.0\.4/);
  assert.ok(valueOf(text, 'process_resident_memory_bytes', {}) !== undefined, 'Node process metrics');
  assert.equal(valueOf(text, 'agent_metrics_source_up', { source: 'visibility' }), 1);
});

test('runs by spec and status, pending approvals by spec, requests by route; no label holds a run id', async () => {
  const first = await startRun({ specName: quick.name });
  const second = await startRun({ specName: quick.name });
  const unregistered = await startRun({ spec: inline });
  const waiting = await startRun({ specName: gated.name });
  for (const run of [first, second, unregistered]) await env.client.workflow.getHandle(run.workflowId).result();
  await waitFor('the gated run to wait at its gate', async () => {
    const { body } = await call<{ progress?: RunProgress }>('GET', `/workflows/${waiting.workflowId}`, 'viewer');
    return body.progress?.pendingApprovals.some((p) => p.stepId === 'gate');
  });

  // Visibility catches up with closed runs and upserted attributes a moment later: scrape until it has.
  const text = await waitFor('the runs in the scraped figures', async () => {
    const { status, text } = await call('GET', '/metrics', 'viewer');
    assert.equal(status, 200);
    return valueOf(text, 'agent_runs', { spec: quick.name, status: 'completed' }) === 2 &&
      valueOf(text, 'agent_runs', { spec: '(other)', status: 'completed' }) === 1 &&
      valueOf(text, 'agent_approvals_pending', { spec: gated.name }) === 1
      ? text
      : undefined;
  });
  assert.equal(valueOf(text, 'agent_runs', { spec: gated.name, status: 'running' }), 1);
  assert.equal(valueOf(text, 'agent_runs', { spec: quick.name, status: 'running' }), undefined);
  const age = valueOf(text, 'agent_approvals_oldest_pending_seconds', { spec: gated.name });
  assert.ok(age !== undefined && age >= 0, 'the oldest pending approval has an age');
  // The inline spec's name is not a label: only registered names are (a bounded set).
  assert.ok(!samples(text).some((s) => s.labels.spec === inline.name));

  // GET /workflows/:id was counted under its template, not under the run's id.
  assert.ok(
    (valueOf(text, 'http_requests_total', { method: 'GET', route: '/workflows/{id}', status: '200' }) ?? 0) >= 1,
  );
  assert.ok((valueOf(text, 'http_requests_total', { method: 'POST', route: '/workflows', status: '201' }) ?? 0) >= 4);
  const ids = started.flatMap((r) => [r.workflowId, r.runId].filter((id): id is string => Boolean(id)));
  for (const s of samples(text)) {
    for (const value of Object.values(s.labels)) {
      for (const id of ids) assert.ok(!value.includes(id), `${s.name} has a label holding ${id}`);
    }
  }
});

test('the OpenAPI document describes GET /metrics as a token-protected text/plain operation', async () => {
  const { body } = await call<{
    paths: Record<string, { get?: { security?: unknown[]; responses: Record<string, { content?: object }> } }>;
  }>('GET', '/docs-json', null);
  const op = body.paths['/metrics']?.get;
  assert.ok(op, 'GET /metrics is in the document');
  assert.deepEqual(op.security, [{ bearer: [] }]);
  assert.ok(op.responses['200']?.content && 'text/plain' in op.responses['200'].content);
  assert.ok(op.responses['401']);
});
