/**
 * Encrypted payloads and run analytics, end to end: a real dev server, the orchestrator worker and
 * the API sharing one AES-256-GCM codec (PAYLOAD_ENCRYPTION_KEYS as the processes read it). The
 * raw history holds no plaintext; the API and the codec endpoint the Web UI calls decrypt it for
 * a caller with a token; analytics count what ran.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type DataConverter, type Payload } from '@temporalio/common';
import { temporal as proto } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AnalyticsSummary } from '../../api/analytics/analytics-views';
import type { CodecBody } from '../../api/codec/codec-requests';
import type { RunDetail, StartRunResponse } from '../../api/workflows/run-views';
import { ensureTemporalCli } from '../../temporal/cli';
import { isEncrypted } from '../../temporal/codec/aes-gcm-codec';
import { replayHistory } from '../../temporal/replay/replay';
import { dataConverterFromEnv } from '../../temporal/codec/data-converter';
import { ENCRYPTION_KEYS_ENV } from '../../temporal/codec/encryption-keys';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { activities as testActivities } from '../fixtures/test-activities';
import { startTestApp, type TestApp } from '../helpers/api-app';
import { testAuth } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess, testDataEnv, testTemporalConfig } from '../helpers/worker';

const execFileAsync = promisify(execFile);
const SECRET = `the launch code is ${randomUUID()}`;
const UI_URL = 'http://127.0.0.1:8233';
/** A bound on a run that would otherwise hang the test, not a timing assertion. */
const CLOSE_TIMEOUT_MS = 120_000;

let env: TestWorkflowEnvironment;
let api: TestApp;
let dataConverter: DataConverter;
let stopWorker: () => Promise<void>;
const auth = testAuth();

async function http<T>(method: string, route: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${api.baseUrl}${route}`, {
    method,
    headers: {
      ...auth.header('admin'),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

async function startRun(name: string, steps: unknown[]): Promise<string> {
  const started = await http<StartRunResponse>('POST', '/workflows', {
    spec: { name, inputs: { prompt: { type: 'string' } }, steps },
    inputs: { prompt: SECRET },
  });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  return started.body.workflowId;
}

function waitForClosed(workflowId: string) {
  return waitFor(
    `${workflowId} to close`,
    async () => {
      const { body } = await http<RunDetail & { result?: { outputs?: Record<string, unknown> } }>(
        'GET',
        `/workflows/${encodeURIComponent(workflowId)}`,
      );
      return body.status !== 'running' ? body : undefined;
    },
    CLOSE_TIMEOUT_MS,
  );
}

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

describe('encrypted payloads and analytics through the API', () => {
  before(async () => {
    env = await createTestEnv();
    dataConverter = dataConverterFromEnv({ [ENCRYPTION_KEYS_ENV]: `k1:${randomBytes(32).toString('base64')}` })!;
    const taskQueue = `codec-${randomUUID()}`;
    const temporal = { ...testTemporalConfig(env, taskQueue), uiUrl: UI_URL, dataConverter };
    const worker = await createOrchestratorWorker({
      connection: env.nativeConnection,
      temporal,
      config: loadOrchestratorWorkerConfig(testDataEnv()),
      workflowBundle: await bundleWorkflowsOnce(),
      activities: testActivities,
    });
    stopWorker = runInProcess(worker);
    const client = new Client({ connection: env.connection, namespace: temporal.namespace, dataConverter });
    api = await startTestApp({ temporal, auth: auth.auth, client });
  });

  after(async () => {
    await api?.stop();
    await stopWorker?.();
    await env?.teardown();
  });

  test('the raw history holds no plaintext prompt; the API and the codec endpoint decrypt it', async () => {
    const id = await startRun('codec-echo', [
      { id: 'echo', kind: 'activity', activity: 'test.echo', args: { said: '${inputs.prompt}' } },
    ]);
    const detail = await waitForClosed(id);
    assert.equal(detail.status, 'completed');

    const { history } = await env.client.workflowService.getWorkflowExecutionHistory({
      namespace: env.namespace ?? 'default',
      execution: { workflowId: id },
    });
    const raw = Buffer.from(proto.api.history.v1.History.encode(history!).finish());
    assert.ok(!raw.includes(SECRET), 'the prompt is in the raw history in clear text');
    const input = history!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    assert.ok(isEncrypted(input));

    // The Web UI's call: with a token, the payload comes back as the run's input.
    const decoded = await http<CodecBody>('POST', '/codec/decode', { payloads: [toJson(input)] }, { origin: UI_URL });
    assert.equal(decoded.status, 200);
    assert.equal(decoded.headers.get('access-control-allow-origin'), UI_URL);
    const [plain] = decoded.body.payloads;
    const value = defaultPayloadConverter.fromPayload<{ inputs: { prompt: string } }>({
      metadata: Object.fromEntries(
        Object.entries(plain!.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
      ),
      data: Buffer.from(plain!.data ?? '', 'base64'),
    });
    assert.equal(value.inputs.prompt, SECRET);

    // The API's own views read the raw history and listings with the same keys.
    const steps = await http<{ steps: Array<{ path: string; kind: string | null }> }>(
      'GET',
      `/workflows/${encodeURIComponent(id)}/steps`,
    );
    assert.deepEqual(
      steps.body.steps.map((st) => [st.path, st.kind]),
      [['echo', 'activity']],
    );
    const listed = await http<{ runs: Array<{ workflowId: string; spec: string | null }> }>(
      'GET',
      '/workflows?spec=codec-echo',
    );
    assert.equal(listed.body.runs.find((r) => r.workflowId === id)?.spec, 'codec-echo');

    // Replay needs the keys: with them the encrypted history replays; `temporal workflow show`
    // decrypts through the codec endpoint with a bearer token, as an operator would.
    const fetched = await env.client.workflow.getHandle(id).fetchHistory();
    const replayed = await replayHistory(fetched, id, await bundleWorkflowsOnce(), dataConverter);
    assert.equal(replayed.outcome, 'deterministic', replayed.message);
    const shown = await execFileAsync(await ensureTemporalCli(), [
      'workflow',
      'show',
      '--address',
      env.address,
      '--namespace',
      env.namespace ?? 'default',
      '--workflow-id',
      id,
      '--codec-endpoint',
      `${api.baseUrl}/codec`,
      '--codec-auth',
      auth.header('viewer').authorization,
      '--output',
      'json',
    ]);
    // The JSON output keeps payloads in base64: the decoded ones hold the prompt.
    const shownData = [...shown.stdout.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) =>
      Buffer.from(m[1]!, 'base64').toString('utf8'),
    );
    assert.ok(!shown.stdout.includes(SECRET));
    assert.ok(
      shownData.some((d) => d.includes(SECRET)),
      'the CLI shows the decrypted prompt through the codec endpoint',
    );

    // Encode then decode round-trips; the encoded form is not the plaintext.
    const plainPayload = toJson(defaultPayloadConverter.toPayload(SECRET));
    const encoded = await http<CodecBody>('POST', '/codec/encode', { payloads: [plainPayload] });
    assert.equal(encoded.status, 200);
    assert.notEqual(encoded.body.payloads[0]!.data, plainPayload.data);
    const back = await http<CodecBody>('POST', '/codec/decode', encoded.body);
    assert.deepEqual(back.body.payloads[0], plainPayload);
  });

  test('the codec endpoint: preflight for the UI origin only, a token required, bad payloads named', async () => {
    const preflight = await fetch(`${api.baseUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: UI_URL,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-namespace',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), UI_URL);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /x-namespace/);
    const elsewhere = await fetch(`${api.baseUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);

    const anonymous = await fetch(`${api.baseUrl}/codec/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [] }),
    });
    assert.equal(anonymous.status, 401);
    const viewerEncode = await http('POST', '/codec/encode', { payloads: [] }, auth.header('viewer'));
    assert.equal(viewerEncode.status, 403);

    const bad = await http<{ issues: Array<{ path: string; message: string }> }>('POST', '/codec/decode', {
      payloads: [{ data: 'not base64!' }],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.issues[0]?.path, 'payloads[0].data');
    const foreign = dataConverterFromEnv({ [ENCRYPTION_KEYS_ENV]: `other:${randomBytes(32).toString('base64')}` })!;
    const [sealed] = await foreign.payloadCodecs![0]!.encode([defaultPayloadConverter.toPayload('x')]);
    const unknownKey = await http<{ issues: Array<{ path: string; message: string }> }>('POST', '/codec/decode', {
      payloads: [toJson(sealed!)],
    });
    assert.equal(unknownKey.status, 400);
    assert.equal(unknownKey.body.issues[0]?.path, 'payloads[0]');
    assert.match(unknownKey.body.issues[0]!.message, /key "other"/);
  });

  test('analytics: runs by status, success rate, durations, from visibility', async () => {
    const spec = `analytics-${randomUUID().slice(0, 8)}`;
    const ok = await Promise.all(
      [1, 2].map(() => startRun(spec, [{ id: 'e', kind: 'activity', activity: 'test.echo' }])),
    );
    const bad = await startRun(spec, [
      { id: 'f', kind: 'activity', activity: 'test.fail', args: { message: 'no' }, retry: { maxAttempts: 1 } },
    ]);
    for (const id of [...ok, bad]) await waitForClosed(id);

    const summary = await waitFor(
      'visibility to show the three closed runs',
      async () => {
        const { status, body } = await http<AnalyticsSummary>('GET', `/analytics/summary?spec=${spec}&since=1h`);
        assert.equal(status, 200);
        return body.runs.completed === 2 && body.runs.failed === 1 && body.sampled === 3 ? body : undefined;
      },
      30_000,
    );
    assert.equal(summary.spec, spec);
    assert.equal(summary.runs.total, 3);
    assert.equal(summary.runs.running, 0);
    assert.ok(Math.abs(summary.successRate! - 2 / 3) < 1e-9);
    assert.ok(summary.durationMs && summary.durationMs.mean > 0 && summary.durationMs.p95 > 0);
    assert.equal(summary.truncated, false);

    // A window that starts after the runs counts none of them.
    const later = new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const empty = await http<AnalyticsSummary>('GET', `/analytics/summary?spec=${spec}&since=${later}`);
    assert.equal(empty.body.runs.total, 0);
    assert.equal(empty.body.successRate, null);
    assert.equal(empty.body.durationMs, null);

    for (const query of ['since=yesterday', 'since=2026-11-30', 'spec=bad%20name', 'other=1']) {
      const res = await http<{ issues: Array<{ path: string }> }>('GET', `/analytics/summary?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.issues[0]?.path, query.split('=')[0], query);
    }
  });
});
