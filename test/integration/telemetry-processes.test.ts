/**
 * Metrics and logs as production runs them: the orchestrator worker (workers/orchestrator.ts) and
 * the API (api/main.ts) in processes of their own against a real Temporal dev server, a run
 * started through the REST API, its model call answered by the stand-in model server (a local
 * HTTP server speaking OpenAI's wire protocol: no hosted model offline). The worker serves the
 * SDK runtime's Prometheus endpoint on a fixed loopback port (WORKER_METRICS_ADDRESS); both
 * processes write JSON lines on stdout, which the tests read.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { StartRunResponse } from '../../api/workflows/run-views';
import { standInEnv } from '../fixtures/llm/harness';
import { inOrder, StandInModelServer } from '../fixtures/llm/model-server';
import { testAuth } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { testDataEnv } from '../helpers/worker';

const ROOT = path.resolve(__dirname, '../..');
/** In the task's port range (9460-9479): the SDK's exporter cannot bind port 0 and say which it got. */
const METRICS_ADDRESS = '127.0.0.1:9467';
const START_TIMEOUT_MS = 120_000;

interface Child {
  process: ChildProcess;
  lines: string[];
}

let env: TestWorkflowEnvironment;
let server: StandInModelServer;
let dir: string;
let worker: Child;
let api: Child;
let apiUrl: string;
let run: StartRunResponse;
const auth = testAuth();
const taskQueue = `telemetry-${randomUUID()}`;

const spec = {
  name: 'telemetry-run',
  steps: [
    { id: 'ask', kind: 'llm', model: 'default', prompt: 'Say hi.' },
    { id: 'nap', kind: 'sleep', duration: '10ms' },
  ],
};

function startChild(entry: string, extraEnv: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...testDataEnv(),
      ...standInEnv(server),
      ...auth.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      ORCHESTRATOR_TASK_QUEUE: taskQueue,
      LOG_FORMAT: '',
      LOG_LEVEL: '',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  return { process: child, lines };
}

async function stopChild(child: Child | undefined): Promise<void> {
  if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = once(child.process, 'exit');
  child.process.kill('SIGTERM');
  await exited;
}

function waitForLine(child: Child, what: string, match: (line: string) => boolean): Promise<string> {
  return waitFor(
    what,
    () => {
      if (child.process.exitCode !== null)
        throw new Error(`the process exited before ${what}:\n${child.lines.join('\n')}`);
      return child.lines.find(match);
    },
    START_TIMEOUT_MS,
  );
}

/** The lines that are JSON objects (the others are the worker's plain start-up banner). */
const jsonLines = (child: Child): Array<Record<string, unknown>> =>
  child.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

before(async () => {
  env = await createTestEnv();
  server = await StandInModelServer.start(inOrder({ text: 'hi', usage: { input: 11, output: 7 } }));
  dir = mkdtempSync(path.join(tmpdir(), 'telemetry-'));
  const bundlePath = path.join(dir, 'workflows.js');
  writeFileSync(bundlePath, (await bundleWorkflowsOnce()).code);
  worker = startChild('workers/orchestrator.ts', {
    ORCHESTRATOR_WORKFLOW_BUNDLE: bundlePath,
    WORKER_VERSIONING: 'off',
    WORKER_METRICS_ADDRESS: METRICS_ADDRESS,
    // DEBUG: the SDK's lines for each workflow and activity task, with their context.
    WORKER_LOG_LEVEL: 'DEBUG',
  });
  api = startChild('api/main.ts', {
    API_HOST: '127.0.0.1',
    API_PORT: '0',
    SPEC_STORE_DIR: path.join(dir, 'specs'),
    WEBHOOK_STORE_DIR: path.join(dir, 'webhooks'),
    METRICS_CACHE_MS: '0',
  });
  await waitForLine(worker, 'the worker banner', (l) => l.startsWith('orchestrator worker: task queue'));
  const listening = await waitForLine(api, 'the API to listen', (l) => l.includes('listening on'));
  apiUrl = /listening on (http:\/\/\S+?) /.exec(listening)?.[1] ?? assert.fail(`no URL in ${listening}`);

  const res = await fetch(`${apiUrl}/workflows`, {
    method: 'POST',
    headers: { ...auth.header('operator'), 'content-type': 'application/json', 'x-request-id': 'telemetry-req-1' },
    body: JSON.stringify({ spec }),
  });
  assert.equal(res.status, 201);
  run = (await res.json()) as StartRunResponse;
  await env.client.workflow.getHandle(run.workflowId).result();
});

after(async () => {
  await Promise.all([stopChild(api), stopChild(worker)]);
  await server?.close();
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the worker serves the SDK metrics and the product ones (steps, model tokens and cost); no run id in a label', async () => {
  const text = await waitFor('the run in the worker metrics', async () => {
    const body = await (await fetch(`http://${METRICS_ADDRESS}/metrics`)).text();
    return /^temporal_workflow_completed\{[^}]*workflow_type="runSpec"/m.test(body) &&
      /agent_step_duration_seconds_count\{[^}]*kind="sleep"/.test(body)
      ? body
      : undefined;
  });
  const sample = (name: string, ...labels: string[]) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.every((label) => l.includes(label)));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  assert.ok((sample('temporal_workflow_completed', 'workflow_type="runSpec"') ?? 0) >= 1);
  for (const kind of ['llm', 'sleep']) {
    assert.equal(sample('agent_step_duration_seconds_count', `kind="${kind}"`, 'status="completed"'), 1, kind);
  }
  assert.equal(sample('agent_llm_tokens', 'model="default"', 'direction="input"'), 11);
  assert.equal(sample('agent_llm_tokens', 'model="default"', 'direction="output"'), 7);
  // Prices of the stand-in models: $1 per million input tokens, $2 per million output tokens.
  const cost = sample('agent_llm_call_cost_usd_sum', 'model="default"');
  assert.ok(cost !== undefined && Math.abs(cost - (11 * 1 + 7 * 2) / 1e6) < 1e-12, `cost ${cost}`);
  for (const line of text.split('\n').filter((l) => !l.startsWith('#'))) {
    assert.ok(!line.includes(run.workflowId), `a label holds the workflow id: ${line}`);
    if (run.runId) assert.ok(!line.includes(run.runId), `a label holds the run id: ${line}`);
  }
});

test("the worker's log is JSON lines carrying workflowId and runId, with task tokens redacted", async () => {
  const lines = await waitFor('the run in the worker log', () => {
    const json = jsonLines(worker);
    return json.some((l) => l.workflowId === run.workflowId && l.activityType === 'llmChat') ? json : undefined;
  });
  for (const line of worker.lines.filter((l) => !l.startsWith('{'))) {
    assert.match(line, /^orchestrator worker: /, 'only the start-up lines are plain text');
  }
  const ofRun = lines.filter((l) => l.workflowId === run.workflowId);
  const workflowLine = ofRun.find((l) => l.workflowType === 'runSpec' && l.activityType === undefined);
  assert.ok(workflowLine, 'a workflow line');
  assert.equal(workflowLine.runId, run.runId);
  assert.equal(workflowLine.name, 'orchestrator worker');
  assert.ok(typeof workflowLine.time === 'string' && typeof workflowLine.level === 'string');
  const activityLine = ofRun.find((l) => l.activityType === 'llmChat');
  assert.ok(activityLine, 'an activity line');
  assert.equal(activityLine.runId, run.runId, "the activity's workflowRunId is written as runId");
  assert.equal(activityLine.taskToken, '[redacted]');
  assert.ok(!worker.lines.some((l) => l.includes('standin-key-1')), 'no model API key in the log');
});

test("the API's log is JSON lines with the request id; bearer tokens and link tokens are redacted", async () => {
  const linkToken = `secret-link-${randomUUID()}`;
  await fetch(`${apiUrl}/approvals/links/${linkToken}?token=${linkToken}`, { headers: { accept: 'application/json' } });
  await fetch(`${apiUrl}/workflows/${run.workflowId}`, {
    headers: { ...auth.header('viewer'), cookie: 'agent_session=x' },
  });
  const lines = await waitFor('the requests in the API log', () => {
    const json = jsonLines(api);
    return json.some((l) => JSON.stringify(l).includes(`/workflows/${run.workflowId}`)) &&
      json.some((l) => JSON.stringify(l).includes('/approvals/links/'))
      ? json
      : undefined;
  });
  assert.equal(jsonLines(api).length, api.lines.length, 'every line is JSON');
  const started = lines.find((l) => (l.req as { id?: string } | undefined)?.id === 'telemetry-req-1');
  assert.ok(started, "the caller's x-request-id is the request id");
  assert.deepEqual((started.req as { method: string; url: string }).method, 'POST');
  assert.equal((started.res as { statusCode: number }).statusCode, 201);
  assert.equal((started.req as { headers: Record<string, string> }).headers.authorization, '[redacted]');
  const read = lines.find((l) => (l.req as { url?: string } | undefined)?.url === `/workflows/${run.workflowId}`);
  assert.ok(read, 'the read is logged with its URL');
  assert.match(String((read.req as { id: string }).id), /^[0-9a-f-]{36}$/, 'a fresh request id otherwise');
  assert.equal((read.req as { headers: Record<string, string> }).headers.cookie, '[redacted]');
  const link = lines.find((l) => String((l.req as { url?: string } | undefined)?.url).startsWith('/approvals/links/'));
  assert.equal((link?.req as { url: string }).url, '/approvals/links/[redacted]?token=[redacted]');
  const output = api.lines.join('\n');
  for (const secret of [auth.tokens.operator, auth.tokens.viewer, linkToken]) {
    assert.ok(!output.includes(secret), 'a credential reached the log');
  }
  assert.ok(!lines.some((l) => l.context === 'RouterExplorer'), 'no line per route at start-up');
  assert.ok(lines.some((l) => l.context === 'Api' && String(l.msg).includes('listening on')));
});
