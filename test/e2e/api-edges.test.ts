/**
 * The API's edges, end to end through the REST API (a real Temporal dev server, the orchestrator
 * worker in this process, the Nest app on a free port, driven with fetch): run ids that cannot
 * collide, repeated runIds, decisions taken once and retried safely, body and spec size limits,
 * bounded spec versions, a damaged spec store, page tokens, methods and routes that do not exist.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { INestApplication, LoggerService } from '@nestjs/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../../api/app';
import type { RunDetail, StartRunResponse } from '../../api/workflows/run-views';
import type { TemporalConfig } from '../../temporal/config';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { RunProgress } from '../../workflows/contracts/run';
import { testAuth } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  issues?: Array<{ path: string; message: string }>;
  decidedBy?: string;
  decidedAt?: string;
}
interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
}
type Detail = RunDetail & { progress?: RunProgress };

/** Keeps what the app logs at warn level and above. */
class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(): void {}
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown): void {
    this.lines.push(String(message));
  }
}

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let app: INestApplication;
let baseUrl: string;
let temporal: TemporalConfig;
let specStoreDir: string;
let webhookStoreDir: string;
const logger = new RecordingLogger();
const tempDirs: string[] = [];
const auth = testAuth();

/** As admin unless `headers` carry another Authorization. */
async function call<T = ErrorBody>(
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
  base = baseUrl,
): Promise<Reply<T>> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: {
      ...auth.header('admin'),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

const issuePaths = (reply: Reply<ErrorBody>) => (reply.body.issues ?? []).map((i) => i.path);
const sleepStep = (id: string) => ({ id, kind: 'sleep', duration: '1ms' });
const gateSpec = (name: string) => ({ name, steps: [{ id: 'ok', kind: 'approval' }] });

async function waitForApproval(workflowId: string, stepId: string): Promise<void> {
  await waitFor(`${workflowId} to wait at ${stepId}`, async () => {
    const { status, body } = await call<Detail>('GET', `/workflows/${workflowId}`);
    assert.equal(status, 200);
    return body.progress?.pendingApprovals.some((p) => p.stepId === stepId);
  });
}

before(async () => {
  env = await createTestEnv();
  temporal = {
    address: env.address,
    namespace: env.namespace ?? 'default',
    uiUrl: 'http://127.0.0.1:8233',
    taskQueue: `api-edges-${randomUUID()}`,
  };
  worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: loadOrchestratorWorkerConfig({}),
    workflowBundle: await bundleWorkflowsOnce(),
  });
  workerRun = worker.run();
  specStoreDir = await mkdtemp(path.join(tmpdir(), 'api-edges-specs-'));
  tempDirs.push(specStoreDir);
  webhookStoreDir = await mkdtemp(path.join(tmpdir(), 'api-edges-webhooks-'));
  tempDirs.push(webhookStoreDir);
  app = await createApp({
    temporal,
    auth: auth.auth,
    client: env.client,
    specStoreDir,
    webhookStoreDir,
    examplesDir: null,
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

describe('workflow ids', () => {
  test('spec "a" + runId "b-c" and spec "a-b" + runId "c" are two runs', async () => {
    const suffix = randomUUID().slice(0, 8);
    const first = await call<StartRunResponse>('POST', '/workflows', {
      spec: { name: `a-${suffix}`, steps: [sleepStep('s')] },
      runId: 'b-c',
    });
    const second = await call<StartRunResponse>('POST', '/workflows', {
      spec: { name: `a-${suffix}-b`, steps: [sleepStep('s')] },
      runId: 'c',
    });
    assert.equal(first.status, 201);
    assert.equal(second.status, 201, 'the second is started, not mistaken for the first');
    assert.equal(first.body.workflowId, `a-${suffix}:b-c`);
    assert.equal(second.body.workflowId, `a-${suffix}-b:c`);
    assert.notEqual(first.body.runId, second.body.runId);

    const read = await call<Detail>('GET', `/workflows/${encodeURIComponent(first.body.workflowId)}`);
    assert.equal(read.status, 200, 'the new ids work in GET /workflows/:id, escaped or not');
    assert.equal((await call('GET', `/workflows/${second.body.workflowId}`)).status, 200);
  });

  test('a runId cannot hold "." or ":", which child runs and the id scheme use', async () => {
    for (const runId of ['x.ok', 'x:y']) {
      const reply = await call('POST', '/workflows', { spec: gateSpec('dots'), runId });
      assert.equal(reply.status, 400, runId);
      assert.deepEqual(issuePaths(reply), ['runId']);
    }
  });
});

describe('repeated runIds', () => {
  test('the same request again is the first run; a different one is a 409 naming the conflict', async () => {
    await call('POST', '/specs', {
      name: 'greet',
      inputs: { who: { type: 'string' } },
      steps: [{ id: 'ok', kind: 'approval', prompt: 'greet ${inputs.who}?' }],
    });
    const runId = `r-${randomUUID()}`;
    const request = { specName: 'greet', inputs: { who: 'ada' }, runId };
    const started = await call<StartRunResponse>('POST', '/workflows', request);
    assert.equal(started.status, 201);

    // Same content in another key order is the same request.
    const again = await call<StartRunResponse>('POST', '/workflows', {
      runId,
      inputs: { who: 'ada' },
      specName: 'greet',
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.created, false);
    assert.equal(again.body.runId, started.body.runId);

    const otherInputs = await call('POST', '/workflows', { ...request, inputs: { who: 'bob' } });
    assert.equal(otherInputs.status, 409);
    assert.match(otherInputs.body.message, new RegExp(`runId "${runId}" conflicts with run "greet:${runId}"`));
    const otherOptions = await call('POST', '/workflows', { ...request, options: { maxOutputBytes: 1000 } });
    assert.equal(otherOptions.status, 409);
    const otherVersion = await call('POST', '/workflows', { ...request, specVersion: 1 });
    assert.equal(otherVersion.status, 409, 'naming a version is another request than "the latest"');
  });
});

describe('decisions', () => {
  test('an Idempotency-Key returns the first answer to a retry, while the run lives and after it closed', async () => {
    // A sleep after the approval keeps the run open for the first retry.
    const spec = {
      name: 'gate-key',
      steps: [
        { id: 'ok', kind: 'approval' },
        { id: 'after', kind: 'sleep', duration: '1h' },
      ],
    };
    const started = await call<StartRunResponse>('POST', '/workflows', { spec });
    const { workflowId } = started.body;
    await waitForApproval(workflowId, 'ok');

    const key = randomUUID();
    const decision = { decision: 'approve', comment: 'fine' };
    const decide = (body: object, headers: Record<string, string> = { 'Idempotency-Key': key }) =>
      call<ErrorBody & { at: string; by: string }>('POST', `/workflows/${workflowId}/approvals/ok`, body, {
        ...auth.header('approver'),
        ...headers,
      });
    const first = await decide(decision);
    assert.equal(first.status, 200);
    assert.equal(first.body.by, 'approver');

    const whileRunning = await decide(decision);
    assert.equal(whileRunning.status, 200, JSON.stringify(whileRunning.body));
    assert.deepEqual(whileRunning.body, first.body, 'the first answer, not a second decision');
    const noKey = await decide(decision, {});
    assert.equal(noKey.status, 409, 'without the key it is a second decision');
    assert.equal(noKey.body.decidedBy, 'approver');

    assert.equal((await call('POST', `/workflows/${workflowId}/terminate`, { reason: 'test' })).status, 200);
    const afterClose = await decide(decision);
    assert.equal(afterClose.status, 200, JSON.stringify(afterClose.body));
    assert.deepEqual(afterClose.body, first.body, 'read back from the closed run');

    const reused = await decide({ ...decision, decision: 'reject' });
    assert.equal(reused.status, 409, 'a key names one decision');
    assert.match(reused.body.message, /Idempotency-Key .* was already used for another decision/);
    const otherUser = await decide(decision, { ...auth.header('ana'), 'Idempotency-Key': key });
    assert.equal(otherUser.status, 409, "a key does not hand another user the first decider's answer");

    const badKey = await decide(decision, { 'Idempotency-Key': 'a b' });
    assert.equal(badKey.status, 400);
    assert.deepEqual(issuePaths(badKey), ['Idempotency-Key']);
  });

  test('three decisions at once on one waiting step: one 200, two 409 naming who decided and when', async () => {
    // A sleep after the approval keeps the run open, so the losers meet the decision, not a closed run.
    const spec = {
      name: 'gate-race',
      steps: [
        { id: 'ok', kind: 'approval' },
        { id: 'after', kind: 'sleep', duration: '1h' },
      ],
    };
    const started = await call<StartRunResponse>('POST', '/workflows', { spec });
    const { workflowId } = started.body;
    await waitForApproval(workflowId, 'ok');

    const replies = await Promise.all(
      (['approver', 'ana', 'mallory'] as const).map((user) =>
        call('POST', `/workflows/${workflowId}/approvals/ok`, { decision: 'approve' }, auth.header(user)),
      ),
    );
    const statuses = replies.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 409, 409], JSON.stringify(replies.map((r) => r.body)));
    const winner = replies.find((r) => r.status === 200)!.body as unknown as { by: string; at: string };
    for (const conflict of replies.filter((r) => r.status === 409)) {
      assert.equal(conflict.body.decidedBy, winner.by);
      assert.equal(conflict.body.decidedAt, winner.at);
      assert.match(conflict.body.message, new RegExp(`already decided.*${winner.by}`));
    }
  });
});

describe('size limits', () => {
  test('a 5,000-step spec is admitted; a body over the limit is a 413 naming it', async () => {
    const steps = Array.from({ length: 5000 }, (_, i) => sleepStep(`s${i}`));
    const big = await call<{ version: number }>('POST', '/specs', { name: 'five-thousand', steps });
    assert.equal(big.status, 201, JSON.stringify(big.body).slice(0, 300));

    const huge = JSON.stringify({ name: 'huge', description: 'x'.repeat(11 * 1024 * 1024), steps: [sleepStep('a')] });
    const tooLarge = await call('POST', '/specs', huge);
    assert.equal(tooLarge.status, 413);
    assert.match(tooLarge.body.message, /limit is 10485760 bytes \(API_BODY_LIMIT\)/);

    const small = await createApp({
      temporal,
      auth: auth.auth,
      client: env.client,
      specStoreDir,
      webhookStoreDir,
      examplesDir: null,
      port: 0,
      // The same logger: Nest's logger is global, and a later test reads what the store logs.
      logger,
      bodyLimit: 2048,
    });
    try {
      const url = await small.getUrl();
      const reply = await call('POST', '/specs', { name: 'fits', steps: [sleepStep('a')] }, {}, url);
      assert.equal(reply.status, 201);
      const over = await call(
        'POST',
        '/specs',
        { name: 'over', description: 'y'.repeat(4096), steps: [sleepStep('a')] },
        {},
        url,
      );
      assert.equal(over.status, 413, 'the configured limit applies');
    } finally {
      await small.close();
    }
  });

  test('deep nesting and too many steps are 400s naming the limit and the path, not stack overflows', async () => {
    let step: object = sleepStep('leaf');
    for (let i = 0; i < 1000; i++) step = { id: `p${i}`, kind: 'parallel', branches: [[step]] };
    const deep = await call('POST', '/workflows', { spec: { name: 'deep', steps: [step] } });
    assert.equal(deep.status, 400);
    const [issue] = deep.body.issues ?? [];
    assert.match(issue?.message ?? '', /steps nested more than 32 deep \(limit maxStepDepth\)/);
    assert.equal(issue?.path, `spec.steps[0]${'.branches[0][0]'.repeat(32)}`);

    const many = Array.from({ length: 10_001 }, (_, i) => sleepStep(`s${i}`));
    const tooMany = await call('POST', '/specs', { name: 'too-many', steps: many });
    assert.equal(tooMany.status, 400);
    assert.deepEqual(tooMany.body.issues, [
      { path: 'steps[10000]', message: 'more than 10000 steps (limit maxSteps)' },
    ]);

    // Spelled as text: JSON.stringify itself overflows the stack on a value this deep.
    const value = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
    const deepArgs = await call(
      'POST',
      '/specs',
      `{"name":"deep-args","steps":[{"id":"a","kind":"activity","activity":"http","args":${value}}]}`,
    );
    assert.equal(deepArgs.status, 400);
    assert.match(deepArgs.body.message, /^steps\[0\]\.args(\[0\])+: arrays and objects nested more than 200 deep/);

    const deepInputs = await call(
      'POST',
      '/workflows',
      `{"spec":${JSON.stringify(gateSpec('deep-inputs'))},"inputs":{"v":${value}}}`,
    );
    assert.equal(deepInputs.status, 400);
    assert.deepEqual(issuePaths(deepInputs), ['inputs']);
  });

  test('the limits are configurable', async () => {
    const strict = await createApp({
      temporal,
      auth: auth.auth,
      client: env.client,
      specStoreDir,
      webhookStoreDir,
      examplesDir: null,
      port: 0,
      logger,
      specLimits: { maxSteps: 3, maxStepDepth: 1, maxNesting: 20 },
    });
    try {
      const url = await strict.getUrl();
      const four = await call('POST', '/specs', { name: 'four', steps: ['a', 'b', 'c', 'd'].map(sleepStep) }, {}, url);
      assert.equal(four.status, 400);
      assert.equal(four.body.issues?.[0]?.path, 'steps[3]');
      const nested = await call(
        'POST',
        '/specs',
        { name: 'nested', steps: [{ id: 'p', kind: 'parallel', branches: [[sleepStep('a')]] }] },
        {},
        url,
      );
      assert.equal(nested.status, 400);
      assert.equal(nested.body.issues?.[0]?.path, 'steps[0].branches[0][0]');
    } finally {
      await strict.close();
    }
  });
});

describe('spec versions and the store', () => {
  test('versions are bounded: 2^53-1 is a 400, the highest version a 409 for the next', async () => {
    const huge = await call('POST', '/specs', { name: 'bounded', version: 2 ** 53 - 1, steps: [sleepStep('a')] });
    assert.equal(huge.status, 400);
    assert.deepEqual(issuePaths(huge), ['version']);

    const top = await call<{ version: number }>('POST', '/specs', {
      name: 'bounded',
      version: 1_000_000,
      steps: [sleepStep('a')],
    });
    assert.equal(top.status, 201);
    assert.equal(top.body.version, 1_000_000);
    const next = await call('POST', '/specs', { name: 'bounded', steps: [sleepStep('b')] });
    assert.equal(next.status, 409);
    assert.match(next.body.message, /reached version 1000000/);

    assert.equal((await call('GET', '/specs')).status, 200);
    assert.equal((await call('GET', '/specs/bounded?version=1000001')).status, 400);
    assert.equal((await call('POST', '/workflows', { specName: 'bounded', specVersion: 1_000_001 })).status, 400);
  });

  test('a damaged store file is skipped and logged; the listing and the spec still answer', async () => {
    const ok = await call('POST', '/specs', { name: 'damaged', steps: [sleepStep('a')] });
    assert.equal(ok.status, 201);
    const dir = path.join(specStoreDir, 'damaged');
    await writeFile(path.join(dir, 'v2.json'), '{ not json');
    await writeFile(path.join(dir, 'v9007199254740993.json'), JSON.stringify({ name: 'damaged', steps: [] }));
    await mkdir(path.join(specStoreDir, 'empty'), { recursive: true });
    await writeFile(
      path.join(specStoreDir, 'empty', 'v1.json'),
      JSON.stringify({ name: 'other', version: 1, steps: [sleepStep('a')] }),
    );

    const listed = await call<{ specs: Array<{ name: string; version: number }> }>('GET', '/specs');
    assert.equal(listed.status, 200);
    const damaged = listed.body.specs.find((s) => s.name === 'damaged');
    assert.equal(damaged?.version, 1, 'the latest readable version');
    assert.equal(
      listed.body.specs.find((s) => s.name === 'empty'),
      undefined,
      'a spec with no readable version is left out',
    );
    assert.equal((await call<{ version: number }>('GET', '/specs/damaged')).body.version, 1);
    assert.equal((await call('GET', '/specs/damaged?version=2')).status, 404);
    assert.ok(logger.lines.some((l) => l.includes(path.join(dir, 'v2.json')) && l.includes('not valid JSON')));
    assert.ok(logger.lines.some((l) => l.includes('v9007199254740993.json') && l.includes('above 1000000')));

    const stored = await call<{ version: number }>('POST', '/specs', { name: 'damaged', steps: [sleepStep('b')] });
    assert.equal(stored.status, 201);
    assert.equal(stored.body.version, 3, 'the damaged version number is not reused');
  });
});

describe('requests that do not fit', () => {
  test('a made-up nextPageToken is a 400 naming it', async () => {
    for (const token of ['bm90LWEtdG9rZW4', 'bm90LWEtdG9rZW4.AAAAAAAAAAAAAAAA']) {
      const reply = await call('GET', `/workflows?nextPageToken=${token}`);
      assert.equal(reply.status, 400, token);
      assert.deepEqual(issuePaths(reply), ['nextPageToken']);
    }

    for (let i = 0; i < 2; i++) await call('POST', '/workflows', { spec: { name: 'paged', steps: [sleepStep('a')] } });
    const first = await waitFor('a second page', async () => {
      const reply = await call<{ nextPageToken?: string }>('GET', '/workflows?spec=paged&pageSize=1');
      return reply.body.nextPageToken;
    });
    assert.equal((await call('GET', `/workflows?spec=paged&pageSize=1&nextPageToken=${first}`)).status, 200);
    const elsewhere = await call('GET', `/workflows?spec=other&pageSize=1&nextPageToken=${first}`);
    assert.equal(elsewhere.status, 400, 'a token pages only through the listing that handed it out');
  });

  test('an unknown method on a known route is a 405 with Allow; an unknown route a JSON 404', async () => {
    const patch = await call('PATCH', '/workflows');
    assert.equal(patch.status, 405);
    assert.equal(patch.headers.get('allow'), 'GET, HEAD, OPTIONS, POST');
    assert.equal(patch.body.error, 'Method Not Allowed');

    const del = await call('DELETE', `/workflows/${randomUUID()}`);
    assert.equal(del.status, 405);
    assert.equal(del.headers.get('allow'), 'GET, HEAD, OPTIONS');

    const getCancel = await call('GET', '/workflows/x/cancel');
    assert.equal(getCancel.status, 405);
    assert.equal(getCancel.headers.get('allow'), 'OPTIONS, POST');

    const options = await call('OPTIONS', '/specs/x');
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('allow'), 'GET, HEAD, OPTIONS');

    const missing = await call('GET', '/nowhere');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.statusCode, 404);
  });

  test('the longest ids the document allows reach the API (no bare 431); an id no run can have is a 404', async () => {
    const longest = encodeURIComponent('\u{1F600}'.repeat(1000)); // 12 bytes a character, percent-encoded
    const reply = await call('POST', `/workflows/${longest}/approvals/${longest}`, { decision: 'approve' });
    assert.equal(reply.status, 404);
    assert.match(reply.body.message, /no id is that long/);
    const tooLong = await call('GET', `/workflows/${'a'.repeat(1001)}`);
    assert.equal(tooLong.status, 400);
    assert.deepEqual(issuePaths(tooLong), ['id']);
  });

  test('a body that is not JSON is a 400 in the ValidationError shape', async () => {
    const reply = await call('POST', '/specs', '{ nope');
    assert.equal(reply.status, 400);
    assert.deepEqual(issuePaths(reply), ['(body)']);
    assert.match(reply.body.message, /not valid JSON/);
  });
});

describe('the OpenAPI document', () => {
  test('declares every status the routes answer, the Idempotency-Key header and the conflict body', async () => {
    type Operation = {
      responses: Record<string, unknown>;
      parameters?: Array<{ name: string; in: string }>;
    };
    const { body } = await call<{ paths: Record<string, Record<string, Operation>> }>('GET', '/docs-json');
    const statuses = (p: string, method: string) => Object.keys(body.paths[p]?.[method]?.responses ?? {}).sort();
    const authed = ['401', '403', '503'];
    const with_ = (...codes: string[]) => [...new Set([...codes, ...authed])].sort();
    assert.deepEqual(statuses('/workflows', 'post'), with_('200', '201', '400', '409', '413', '502', '503', '504'));
    assert.deepEqual(statuses('/workflows', 'get'), with_('200', '400', '502', '503', '504'));
    assert.deepEqual(statuses('/workflows/{id}', 'get'), with_('200', '400', '404', '502', '503', '504'));
    assert.deepEqual(
      statuses('/workflows/{id}/approvals/{stepId}', 'post'),
      with_('200', '400', '404', '409', '413', '502', '503', '504'),
    );
    assert.deepEqual(statuses('/specs', 'post'), with_('200', '201', '400', '409', '413'));
    assert.deepEqual(statuses('/specs/{name}', 'get'), with_('200', '400', '404'));
    assert.deepEqual(statuses('/health', 'get'), ['200', '503'], 'no token needed for liveness probes');

    const approval = body.paths['/workflows/{id}/approvals/{stepId}']?.post;
    assert.ok(approval?.parameters?.some((p) => p.in === 'header' && p.name === 'Idempotency-Key'));
    assert.deepEqual(approval?.responses['409'], {
      description: (approval?.responses['409'] as { description: string }).description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/DecisionConflict' } } },
    });
  });
});
