/**
 * Decision tokens for the `approve` signal, end to end on a real dev server: the API mints one
 * (POST /workflows/:id/approvals/:stepId/signal-token) for a caller the step's approvers name,
 * its `command` run by a shell with the real Temporal CLI decides the step, and the orchestrator
 * worker's check refuses it for another run, step or decision, once expired, and a second time
 * (also when the same approval is asked again: a budget raised twice). It is no bearer token and
 * no link, and the history API shows "[redacted]" where tokens were, yet its history replays.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { mintSignalToken } from '../../activities/identity/signal-token';
import type { SignalTokenResponse } from '../../api/approvals/signal-token-schemas';
import { createApp } from '../../api/app';
import { ensureTemporalCli } from '../../temporal/cli';
import type { TemporalConfig } from '../../temporal/config';
import { parseHistoryJson } from '../../temporal/replay/history';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import {
  approveSignal,
  progressQuery,
  RUN_SPEC_WORKFLOW,
  SPEC_NAME_ATTRIBUTE,
  type ApprovalResult,
  type RunInput,
  type RunOptions,
  type RunResult,
} from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { standInEnv } from '../fixtures/llm/harness';
import { StandInModelServer } from '../fixtures/llm/model-server';
import { testAuth, type TestUser } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess, testDataEnv } from '../helpers/worker';

type RunHandle = WorkflowHandle<(i: RunInput) => Promise<RunResult>>;
interface Reply<T> {
  status: number;
  body: T;
  headers: Headers;
}
interface ErrorBody {
  statusCode: number;
  message: string;
  issues?: Array<{ path: string }>;
}

let env: TestWorkflowEnvironment;
let models: StandInModelServer;
let stopWorker: () => Promise<void>;
let app: INestApplication;
let baseUrl: string;
let temporal: TemporalConfig;
let cli: string;
const dirs: string[] = [];
const auth = testAuth();

before(async () => {
  env = await createTestEnv();
  models = await StandInModelServer.start(() => ({ text: 'ok', usage: { input: 60, output: 40 } }));
  temporal = {
    address: env.address,
    namespace: env.namespace ?? 'default',
    uiUrl: 'http://127.0.0.1:8233',
    taskQueue: `signal-token-${randomUUID()}`,
  };
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: {
      ...loadOrchestratorWorkerConfig({ ...standInEnv(models), ...testDataEnv() }),
      shutdownGraceTimeMs: 5_000,
    },
    workflowBundle: await bundleWorkflowsOnce(),
    identityEnv: auth.env,
  });
  stopWorker = runInProcess(worker);
  const [specStoreDir, webhookStoreDir] = await Promise.all(
    ['specs', 'webhooks'].map((d) => mkdtemp(path.join(tmpdir(), `signal-token-${d}-`))),
  );
  dirs.push(specStoreDir!, webhookStoreDir!);
  app = await createApp({
    temporal,
    auth: auth.auth,
    client: env.client,
    specStoreDir: specStoreDir!,
    webhookStoreDir: webhookStoreDir!,
    examplesDir: null,
    port: 0,
    logger: false,
  });
  baseUrl = await app.getUrl();
  cli = await ensureTemporalCli();
});

after(async () => {
  await app?.close();
  await stopWorker?.();
  await models?.close();
  await env?.teardown();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function http<T = ErrorBody>(
  method: string,
  route: string,
  opts: { user?: TestUser | null; bearer?: string; body?: unknown } = {},
): Promise<Reply<T>> {
  const { user = 'ana', body } = opts;
  const authorization = opts.bearer ? { authorization: `Bearer ${opts.bearer}` } : user ? auth.header(user) : {};
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: {
      accept: 'application/json',
      ...authorization,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
  return { status: res.status, body: parsed as T, headers: res.headers };
}

const tokenRoute = (workflowId: string, stepId: string) =>
  `/workflows/${encodeURIComponent(workflowId)}/approvals/${encodeURIComponent(stepId)}/signal-token`;

async function mint(workflowId: string, stepId: string, body: unknown, user: TestUser = 'ana') {
  const reply = await http<SignalTokenResponse>('POST', tokenRoute(workflowId, stepId), { user, body });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  return reply.body;
}

/** Runs the route's `command` as a person pastes it, with `temporal` meaning the test's CLI. */
async function runCommand(command: string): Promise<void> {
  await promisify(execFile)('/bin/sh', ['-c', `temporal() { "$TEMPORAL_CLI" "$@"; }; ${command}`], {
    env: { ...process.env, TEMPORAL_CLI: cli },
  });
}

function start(spec: Spec, options?: RunOptions): Promise<RunHandle> {
  return env.client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
    taskQueue: temporal.taskQueue,
    workflowId: `${spec.name}:${randomUUID()}`,
    args: [{ spec, inputs: {}, ...(options && { options }) }],
    typedSearchAttributes: [{ key: SPEC_NAME_ATTRIBUTE, value: spec.name }],
  });
}

/** The approval `stepId` once the run waits for it and its memo (what the route reads) says so. */
async function pending(handle: RunHandle, stepId: string) {
  return waitFor(`${stepId} to be pending`, async () => {
    const waiting = (await handle.query(progressQuery)).pendingApprovals.find((a) => a.stepId === stepId);
    const memo = (await handle.describe()).memo?.pendingApprovals as Array<{ stepId: string }> | undefined;
    return waiting && memo?.some((a) => a.stepId === stepId) && waiting;
  });
}

async function nthRefusal(handle: RunHandle, n: number) {
  return waitFor(`refused decision #${n}`, async () => (await handle.query(progressQuery)).refusedDecisions?.[n - 1]);
}

const approval = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'approval' as const,
  timeout: '1h',
  ...extra,
});

/** Every string a history holds, payloads decoded: where a token would show. */
function stringsIn(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, into);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.data === 'string' && o.metadata) into.push(Buffer.from(o.data, 'base64').toString('utf8'));
    for (const v of Object.values(o)) stringsIn(v, into);
  }
  return into;
}

describe('a decision token from the API', () => {
  test('approves through the Temporal CLI; sent again it is refused and changes nothing; the history API shows no token and replays', async () => {
    const spec: Spec = {
      name: 'signal-token-release',
      steps: [approval('approve', { approvers: ['release-managers'] }), approval('hold')],
    };
    const handle = await start(spec);
    await pending(handle, 'approve');

    const minted = await mint(handle.workflowId, 'approve', { decision: 'approve' });
    assert.equal(minted.user, 'ana');
    assert.equal(minted.decision, 'approve');
    const lifetime = Date.parse(minted.expiresAt) - Date.now();
    assert.ok(lifetime > 14 * 60_000 && lifetime <= 15 * 60_000, `default lifetime 15m (${lifetime}ms)`);
    assert.ok(
      minted.command.startsWith(
        `temporal workflow signal --address ${temporal.address} --namespace ${temporal.namespace} --workflow-id `,
      ),
      minted.command,
    );
    await runCommand(minted.command);
    await pending(handle, 'hold');
    const decided = (await handle.query(progressQuery)).steps.approve?.output as ApprovalResult;
    assert.equal(decided.by, 'ana');
    assert.deepEqual(decided.groups, ['release-managers']);
    assert.equal(decided.channel, 'signal');

    await runCommand(minted.command);
    const again = await nthRefusal(handle, 1);
    assert.equal(again.stepId, 'approve');
    assert.equal(again.channel, 'signal');
    assert.match(again.reason, /step "approve" was already decided: approve by ana/);
    assert.deepEqual((await handle.query(progressQuery)).steps.approve?.output, decided);

    // The bearer-token way (a short-lived JWT in practice) still decides, and is redacted too.
    await promisify(execFile)(cli, [
      ...['workflow', 'signal', '--address', temporal.address, '--namespace', temporal.namespace],
      ...['--workflow-id', handle.workflowId, '--name', 'approve', '--input'],
      JSON.stringify({ stepId: 'hold', decision: 'approve', token: auth.tokens.ana }),
    ]);
    const result = await handle.result();
    assert.equal((result.steps.hold?.output as ApprovalResult).channel, 'signal');

    const secrets = [minted.token, auth.tokens.ana];
    const raw = stringsIn(JSON.parse(JSON.stringify(await handle.fetchHistory())));
    for (const secret of secrets)
      assert.ok(
        raw.some((s) => s.includes(secret)),
        'the raw history holds the token',
      );

    const reply = await http<string>('GET', `/workflows/${encodeURIComponent(handle.workflowId)}/history`, {
      user: 'viewer',
    });
    assert.equal(reply.status, 200);
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    const shown = stringsIn(JSON.parse(text));
    for (const secret of secrets) assert.ok(!shown.some((s) => s.includes(secret)), 'the history API hides the token');

    const history = parseHistoryJson(text);
    const signals = (history.events ?? []).flatMap(
      (e) => e.workflowExecutionSignaledEventAttributes?.input?.payloads ?? [],
    );
    assert.deepEqual(
      signals.map((p) => defaultPayloadConverter.fromPayload<{ token: string }>(p).token),
      ['[redacted]', '[redacted]', '[redacted]'],
    );
    const checks = (history.events ?? []).flatMap((e) => {
      const scheduled = e.activityTaskScheduledEventAttributes;
      return scheduled?.activityType?.name === 'verifyDecisionToken' ? (scheduled.input?.payloads ?? []) : [];
    });
    assert.deepEqual(
      checks.map((p) => defaultPayloadConverter.fromPayload(p)),
      ['[redacted]', { stepId: 'approve', decision: 'approve' }, '[redacted]', { stepId: 'hold', decision: 'approve' }],
    );
    // The redacted history is still this run's: it replays against the workflow code.
    await Worker.runReplayHistory({ workflowBundle: await bundleWorkflowsOnce() }, history, handle.workflowId);
  });

  test('for another step, another run or the other decision, or expired: refused and recorded; the steps still wait', async () => {
    const spec: Spec = {
      name: 'signal-token-scope',
      steps: [{ id: 'both', kind: 'parallel', branches: [[approval('a')], [approval('b')]] }],
    };
    const [handle, other] = await Promise.all([start(spec), start(spec)]);
    await Promise.all([pending(handle, 'a'), pending(handle, 'b'), pending(other, 'a')]);

    const forA = await mint(handle.workflowId, 'a', { decision: 'approve', expiresIn: '1h' });
    const forOtherRun = await mint(other.workflowId, 'a', { decision: 'approve' });
    const expired = mintSignalToken(
      { workflowId: handle.workflowId, stepId: 'a', decision: 'approve', user: 'ana', groups: [], exp: Date.now() - 1 },
      auth.env.SIGNING_SECRET,
    );
    const sends: Array<[{ stepId: string; decision: 'approve' | 'reject'; token: string }, RegExp]> = [
      [{ stepId: 'b', decision: 'approve', token: forA.token }, /^the decision token is for step "a", not "b"$/],
      [{ stepId: 'a', decision: 'reject', token: forA.token }, /^the decision token is for "approve", not "reject"$/],
      [{ stepId: 'a', decision: 'approve', token: forOtherRun.token }, /^the decision token is for another run$/],
      [{ stepId: 'a', decision: 'approve', token: expired }, /^the decision token has expired/],
    ];
    for (const [i, [input, reason]] of sends.entries()) {
      await handle.signal(approveSignal, input);
      const refused = await nthRefusal(handle, i + 1);
      assert.match(refused.reason, reason);
      assert.equal(refused.stepId, input.stepId);
    }
    const progress = await handle.query(progressQuery);
    assert.deepEqual(progress.pendingApprovals.map((a) => a.stepId).sort(), ['a', 'b']);

    // Refused for the wrong use, the token still decides what it was minted for.
    await runCommand(forA.command);
    await waitFor('a decided', async () => (await handle.query(progressQuery)).steps.a?.status === 'completed');
    await Promise.all([handle.terminate('test done'), other.terminate('test done')]);
  });

  test('works once, also when the same approval is asked again (a run budget raised twice)', async () => {
    const ask = (id: string) => ({ id, kind: 'llm' as const, model: 'default', prompt: id });
    const spec: Spec = { name: 'signal-token-budget', steps: [ask('one'), ask('two'), ask('three')] };
    const handle = await start(spec, { budget: { tokens: 100 } });
    const exchanges = models.exchanges.length;
    await pending(handle, '~budget');

    const token = await mint(handle.workflowId, '~budget', { decision: 'approve' });
    await runCommand(token.command);
    await waitFor('the second model call', () => models.exchanges.length >= exchanges + 2 || undefined);
    const second = await pending(handle, '~budget');
    assert.match(second.prompt ?? '', /raise it to 300 tokens/);

    await runCommand(token.command);
    const refused = await nthRefusal(handle, 1);
    assert.equal(refused.stepId, '~budget');
    assert.equal(refused.by, 'ana');
    assert.equal(refused.reason, 'this decision token was already used: a decision token works once');
    assert.deepEqual((await handle.query(progressQuery)).pendingApprovals, [second]);

    await runCommand((await mint(handle.workflowId, '~budget', { decision: 'approve' })).command);
    const result = await handle.result();
    assert.equal(result.steps.three?.output, 'ok');
  });
});

describe('POST /workflows/:id/approvals/:stepId/signal-token', () => {
  let handle: RunHandle;
  let route: string;
  before(async () => {
    handle = await start({
      name: 'signal-token-route',
      steps: [approval('approve', { approvers: ['release-managers'] })],
    });
    route = tokenRoute(handle.workflowId, 'approve');
    await pending(handle, 'approve');
  });
  after(() => handle?.terminate('test done'));

  test('refuses who may not decide (403), the wrong role (403), no token (401), bad bodies (400 naming the field)', async () => {
    const mallory = await http('POST', route, { user: 'mallory', body: { decision: 'approve' } });
    assert.equal(mallory.status, 403);
    assert.match(mallory.body.message, /mallory may not decide step "approve" \(approvers: release-managers\)/);
    assert.equal((await http('POST', route, { user: 'viewer', body: { decision: 'approve' } })).status, 403);
    assert.equal((await http('POST', route, { user: null, body: { decision: 'approve' } })).status, 401);
    for (const [body, field] of [
      [{}, 'decision'],
      [{ decision: 'maybe' }, 'decision'],
      [{ decision: 'approve', expiresIn: '25h' }, 'expiresIn'],
      [{ decision: 'approve', expiresIn: '0m' }, 'expiresIn'],
      [{ decision: 'approve', by: 'bob' }, ''],
    ] as const) {
      const reply = await http('POST', route, { body });
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.ok(
        reply.body.issues?.some((i) => i.path.includes(field)),
        JSON.stringify(reply.body),
      );
    }
    const elsewhere = await http('POST', tokenRoute(handle.workflowId, 'deploy'), { body: { decision: 'approve' } });
    assert.equal(elsewhere.status, 409);
    const missing = await http('POST', tokenRoute(`nope-${randomUUID()}`, 'approve'), {
      body: { decision: 'approve' },
    });
    assert.equal(missing.status, 404);
  });

  test('a token that lives 24h at most, not kept by caches, and no bearer token or link', async () => {
    const reply = await http<SignalTokenResponse>('POST', route, { body: { decision: 'reject', expiresIn: '24h' } });
    assert.equal(reply.status, 201);
    assert.equal(reply.headers.get('cache-control'), 'no-store');
    const { token } = reply.body;
    assert.ok(Date.parse(reply.body.expiresAt) - Date.now() <= 86_400_000);

    for (const [method, probe] of [
      ['GET', '/approvals'],
      ['GET', `/workflows/${encodeURIComponent(handle.workflowId)}`],
      ['POST', route],
    ] as const) {
      const reply = await http(method, probe, {
        bearer: token,
        ...(method === 'POST' && { body: { decision: 'approve' } }),
      });
      assert.equal(reply.status, 401, `${method} ${probe}`);
    }
    for (const asLink of [token, token.slice('decision.'.length)]) {
      const used = await http('POST', `/approvals/links/${asLink}`, { user: null });
      assert.equal(used.status, 400, `${asLink}: ${JSON.stringify(used.body)}`);
    }
    assert.deepEqual(
      (await handle.query(progressQuery)).pendingApprovals.map((a) => a.stepId),
      ['approve'],
    );
  });
});
