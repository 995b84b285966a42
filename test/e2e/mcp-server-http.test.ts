/**
 * The orchestrator as an MCP server over Streamable HTTP (/mcp): the MCP SDK's own client against
 * the Nest app, a real Temporal dev server and the orchestrator worker in this process, with
 * real static tokens (test/helpers/api-auth.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { testAuth, type TestUser } from '../helpers/api-auth';
import { startTestApp, type TestApp } from '../helpers/api-app';
import { executionClosed } from '../../api/mcp-server/execution-closed';
import { waitFor } from '../helpers/journal';
import { ok, refused, resourceJson } from '../helpers/mcp-tool-results';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess, testDataEnv, testTemporalConfig } from '../helpers/worker';

const auth = testAuth();
let env: TestWorkflowEnvironment;
let stopWorker: () => Promise<void>;
let api: TestApp;
const clients: Client[] = [];
/** Protocol errors any client saw (e.g. a notification it could not place). */
const clientErrors: Error[] = [];

const RELEASE_SPEC = {
  name: 'mcp-release',
  description: 'Ship a ticket once a release manager agrees',
  inputs: { ticket: { type: 'string', description: 'The ticket to ship' } },
  steps: [
    {
      id: 'approve',
      kind: 'approval',
      prompt: 'Ship ${inputs.ticket}?',
      approvers: ['release-managers'],
      timeout: '1h',
      onReject: 'continue',
    },
  ],
};

async function rest(method: string, route: string, body?: unknown, user: TestUser = 'admin'): Promise<Response> {
  return fetch(`${api.baseUrl}${route}`, {
    method,
    headers: { ...auth.header(user), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function connect(user: TestUser): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'mcp-server-http-test', version: '1.0.0' });
  client.onerror = (err) => clientErrors.push(err);
  const transport = new StreamableHTTPClientTransport(new URL(`${api.baseUrl}/mcp`), {
    requestInit: { headers: auth.header(user) },
  });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

/** A raw request, for what fetch cannot send (a Host header of our choosing). */
function rawPost(
  path: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const url = new URL(path, api.baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
}

const errorMessage = (body: string) => (JSON.parse(body) as { error: { message: string } }).error.message;

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

before(async () => {
  env = await createTestEnv();
  const temporal = testTemporalConfig(env, `mcp-server-http-${randomUUID()}`);
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: loadOrchestratorWorkerConfig(testDataEnv()),
    workflowBundle: await bundleWorkflowsOnce(),
    identityEnv: auth.env,
  });
  stopWorker = runInProcess(worker);
  api = await startTestApp({ temporal, auth: auth.auth, client: env.client });
  const registered = await rest('POST', '/specs', RELEASE_SPEC);
  assert.equal(registered.status, 201, await registered.text());
});

after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await api?.stop();
  await stopWorker?.();
  await env?.teardown();
});

test('tools (with output schemas), spec resources, run and spec templates, and a prompt per spec', async () => {
  const { client } = await connect('viewer');
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), [
    'cancel_run',
    'decide_approval',
    'get_run',
    'list_pending_approvals',
    'list_runs',
    'list_specs',
    'start_run',
    'wait_for_run',
  ]);
  for (const tool of tools) {
    assert.equal(tool.inputSchema.type, 'object', tool.name);
    assert.equal(tool.outputSchema?.type, 'object', tool.name);
  }
  const listed = await ok<{ specs: Array<{ name: string; version: number }> }>(client, 'list_specs', {});
  assert.deepEqual(
    listed.specs.map((s) => [s.name, s.version]),
    [['mcp-release', 1]],
  );

  const { resources } = await client.listResources();
  assert.deepEqual(
    resources.map((r) => r.uri),
    ['spec://mcp-release'],
  );
  const { resourceTemplates } = await client.listResourceTemplates();
  assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate).sort(), ['run://{workflowId}', 'spec://{name}']);
  const spec = resourceJson(await client.readResource({ uri: 'spec://mcp-release' }));
  assert.equal(spec.name, 'mcp-release');
  assert.deepEqual((spec.spec as { inputs: unknown }).inputs, RELEASE_SPEC.inputs);
  await assert.rejects(client.readResource({ uri: 'spec://no-such-spec' }), /-32002.*not registered/);
  const completed = await client.complete({
    ref: { type: 'ref/resource', uri: 'spec://{name}' },
    argument: { name: 'name', value: 'mcp-r' },
  });
  assert.deepEqual(completed.completion.values, ['mcp-release']);
  await client.setLoggingLevel('warning');

  const { prompts } = await client.listPrompts();
  const prompt = prompts.find((p) => p.name === 'mcp-release');
  assert.deepEqual(prompt?.arguments, [{ name: 'ticket', description: 'text; The ticket to ship', required: true }]);
  const got = await client.getPrompt({ name: 'mcp-release', arguments: { ticket: 'T-7' } });
  const text = (got.messages[0]?.content as { text: string }).text;
  assert.match(text, /start_run/);
  assert.match(text, /"ticket":"T-7"/);
});

test('a run through MCP: start, follow with progress, decisions refused and taken, run:// read', async () => {
  const operator = (await connect('operator')).client;
  const ana = (await connect('ana')).client;
  const mallory = (await connect('mallory')).client;
  const viewer = (await connect('viewer')).client;
  const runId = `r-${randomUUID()}`;

  assert.match(
    await refused(viewer, 'start_run', { specName: 'mcp-release', inputs: { ticket: 'T-1' } }),
    /Forbidden \(403\): "viewer" holds viewer; this needs the operator role/,
  );
  const started = await ok<{ workflowId: string; created: boolean }>(operator, 'start_run', {
    specName: 'mcp-release',
    inputs: { ticket: 'T-1' },
    runId,
  });
  assert.equal(started.workflowId, `mcp-release:${runId}`);
  assert.equal(started.created, true);
  const again = await ok<{ workflowId: string; created: boolean }>(operator, 'start_run', {
    specName: 'mcp-release',
    inputs: { ticket: 'T-1' },
    runId,
  });
  assert.deepEqual([again.workflowId, again.created], [started.workflowId, false], 'runId makes the start idempotent');
  const { workflowId } = started;
  const runUri = `run://${encodeURIComponent(workflowId)}`;
  const updated: string[] = [];
  viewer.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
  await viewer.subscribeResource({ uri: runUri });
  await assert.rejects(viewer.subscribeResource({ uri: 'test://static-text' }), /-32002/);

  const progress: Array<{ progress: number; message?: string }> = [];
  const waiting = operator.callTool(
    { name: 'wait_for_run', arguments: { workflowId, timeoutSeconds: 120 } },
    undefined,
    { onprogress: (p) => progress.push(p), timeout: 150_000, resetTimeoutOnProgress: true },
  );

  const pending = await waitFor('the approval in list_pending_approvals', async () => {
    const page = await ok<{ approvals: Array<{ workflowId: string; stepId: string; mayDecide: boolean }> }>(
      ana,
      'list_pending_approvals',
      { spec: 'mcp-release', mine: true },
    );
    return page.approvals.find((a) => a.workflowId === workflowId);
  });
  assert.deepEqual([pending.stepId, pending.mayDecide], ['approve', true]);
  await waitFor('a progress notification naming the approval', () =>
    progress.some((p) => p.message?.includes('waiting for approval: approve ("Ship T-1?")')),
  );

  const decision = { workflowId, stepId: 'approve', decision: 'approve' };
  assert.match(await refused(viewer, 'decide_approval', decision), /needs the approver role/);
  assert.match(await refused(mallory, 'decide_approval', decision), /Forbidden \(403\)/);
  const decided = await ok<{ decision: string; by: string; channel: string }>(ana, 'decide_approval', {
    ...decision,
    comment: 'ship it',
  });
  assert.deepEqual([decided.decision, decided.by, decided.channel], ['approve', 'ana', 'api']);

  const waited = (await waiting) as CallToolResult;
  assert.notEqual(waited.isError, true, JSON.stringify(waited.content));
  const outcome = waited.structuredContent as { finished: boolean; timedOut: boolean; run: { status: string } };
  assert.deepEqual([outcome.finished, outcome.timedOut, outcome.run.status], [true, false, 'completed']);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.progress > progress[i - 1]!.progress);
  assert.deepEqual(clientErrors, [], 'every notification reached its request');

  assert.match(await refused(ana, 'decide_approval', decision), /Conflict \(409\)/, 'decided once');
  await waitFor('resources/updated for the subscribed run', () => updated.includes(runUri));

  const summary = resourceJson(await viewer.readResource({ uri: runUri }));
  assert.equal(summary.workflowId, workflowId);
  assert.equal(summary.status, 'completed');
  assert.deepEqual(summary.steps, { approve: 'completed' });
  await assert.rejects(viewer.readResource({ uri: `run://${encodeURIComponent('mcp-release:nope')}` }), /-32002/);
  const detail = await ok<{ status: string; spec: string }>(viewer, 'get_run', { workflowId });
  assert.deepEqual([detail.status, detail.spec], ['completed', 'mcp-release']);
  const listedRuns = await waitFor('the run in list_runs', async () => {
    const page = await ok<{ runs: Array<{ workflowId: string }> }>(viewer, 'list_runs', {
      spec: 'mcp-release',
      status: 'completed',
    });
    return page.runs.some((r) => r.workflowId === workflowId) && page;
  });
  assert.ok(listedRuns.runs.length >= 1);
});

test('wait_for_run returns at its timeout and stops when the client cancels; cancel_run needs operator', async () => {
  const { client: operator } = await connect('operator');
  const { client: viewer } = await connect('viewer');
  const { workflowId } = await ok<{ workflowId: string }>(operator, 'start_run', {
    specName: 'mcp-release',
    inputs: { ticket: 'T-2' },
  });
  const early = await ok<{ finished: boolean; timedOut: boolean; run: { status: string } }>(viewer, 'wait_for_run', {
    workflowId,
    timeoutSeconds: 0.2,
  });
  assert.deepEqual([early.finished, early.timedOut, early.run.status], [false, true, 'running']);

  const abort = new AbortController();
  const cancelled = viewer.callTool(
    { name: 'wait_for_run', arguments: { workflowId, timeoutSeconds: 60 } },
    undefined,
    { signal: abort.signal },
  );
  setTimeout(() => abort.abort(new Error('the user went away')), 300);
  await assert.rejects(cancelled, /went away/);
  assert.equal((await ok<{ status: string }>(viewer, 'get_run', { workflowId })).status, 'running', 'session alive');

  assert.match(await refused(viewer, 'cancel_run', { workflowId }), /needs the operator role/);
  const stop = await ok<{ status: string }>(operator, 'cancel_run', { workflowId, reason: 'not today' });
  assert.equal(stop.status, 'cancel_requested');
  const closed = await ok<{ finished: boolean; run: { status: string } }>(viewer, 'wait_for_run', {
    workflowId,
    timeoutSeconds: 60,
  });
  assert.deepEqual([closed.finished, closed.run.status], [true, 'cancelled']);
  assert.match(await refused(operator, 'cancel_run', { workflowId }), /Conflict \(409\)/);
  assert.match(await refused(viewer, 'get_run', { workflowId: 'mcp-release:never-ran' }), /Not found \(404\)/);
});

test("wait_for_run's close watch: a long poll that resolves when the run closes, and stops on abort", async () => {
  const { client: operator } = await connect('operator');
  const { workflowId } = await ok<{ workflowId: string }>(operator, 'start_run', {
    specName: 'mcp-release',
    inputs: { ticket: 'T-watch' },
  });
  const namespace = env.namespace ?? 'default';
  const watch = new AbortController();
  let closedAt: number | undefined;
  const closing = executionClosed(env.client, namespace, workflowId, watch.signal).then(() => (closedAt = Date.now()));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(closedAt, undefined, 'the run is open: the watch waits');
  const cancelledAt = Date.now();
  await ok(operator, 'cancel_run', { workflowId });
  await closing;
  assert.ok(closedAt! >= cancelledAt, 'resolved by the close');

  const other = await ok<{ workflowId: string }>(operator, 'start_run', {
    specName: 'mcp-release',
    inputs: { ticket: 'T-unwatched' },
  });
  const stop = new AbortController();
  const stopped = executionClosed(env.client, namespace, other.workflowId, stop.signal);
  stop.abort();
  await assert.rejects(stopped);
  await ok(operator, 'cancel_run', { workflowId: other.workflowId });
});

test('bad input is a tool error naming the field', async () => {
  const { client } = await connect('operator');
  assert.match(
    await refused(client, 'start_run', { specName: 'mcp-release', inputs: { ticket: 5 } }),
    /inputs\.ticket/,
  );
  assert.match(await refused(client, 'start_run', { inputs: {} }), /specName/);
  assert.match(await refused(client, 'start_run', { specName: 'Not A Name' }), /specName/);
  assert.match(await refused(client, 'start_run', { specName: 'mcp-release', runId: 'a:b' }), /runId/);
  assert.match(await refused(client, 'start_run', { specName: 'mcp-release', extra: 1 }), /extra/);
  assert.match(await refused(client, 'start_run', { specName: 'no-such-spec' }), /specName: spec "no-such-spec"/);
  assert.match(
    await refused(client, 'decide_approval', { workflowId: 'x', stepId: 'y', decision: 'maybe' }),
    /decision/,
  );
  assert.match(await refused(client, 'wait_for_run', { workflowId: 'x', timeoutSeconds: -1 }), /timeoutSeconds/);
});

test('registering a spec announces resources and prompts list_changed', async () => {
  const { client } = await connect('viewer');
  const resourcesChanged = new Promise<void>((resolve) =>
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => resolve()),
  );
  const promptsChanged = new Promise<void>((resolve) =>
    client.setNotificationHandler(PromptListChangedNotificationSchema, () => resolve()),
  );
  const name = `mcp-new-${randomUUID().slice(0, 8)}`;
  const registered = await rest('POST', '/specs', { ...RELEASE_SPEC, name });
  assert.equal(registered.status, 201);
  await resourcesChanged;
  await promptsChanged;
  assert.ok((await client.listResources()).resources.some((r) => r.uri === `spec://${name}`));
  assert.ok((await client.listPrompts()).prompts.some((p) => p.name === name));

  // A subscribed spec is announced when a new version of it is registered.
  const specUpdated = new Promise<string>((resolve) =>
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)),
  );
  await client.subscribeResource({ uri: `spec://${name}` });
  const second = await rest('POST', '/specs', { ...RELEASE_SPEC, name, description: 'now with a new description' });
  assert.equal(second.status, 201);
  assert.equal(await specUpdated, `spec://${name}`);
});

test('/mcp needs a valid bearer token, an allowed Host and Origin, and the session owner', async () => {
  const noToken = await rawPost('/mcp', {}, INITIALIZE);
  assert.equal(noToken.status, 401);
  assert.match(String(noToken.headers['www-authenticate']), /^Bearer/);
  assert.equal((await rawPost('/mcp', { authorization: 'Bearer not-a-token' }, INITIALIZE)).status, 401);

  const evilHost = await rawPost('/mcp', { ...auth.header('admin'), host: 'evil.example:80' }, INITIALIZE);
  assert.equal(evilHost.status, 403);
  assert.match(errorMessage(evilHost.body), /Host header "evil.example:80" is not an allowed host/);
  const evilOrigin = await rawPost('/mcp', { ...auth.header('admin'), origin: 'http://evil.example' }, INITIALIZE);
  assert.equal(evilOrigin.status, 403);
  assert.match(errorMessage(evilOrigin.body), /Origin "http:\/\/evil.example" is not allowed/);
  const loopbackOrigin = await rawPost(
    '/mcp',
    { ...auth.header('admin'), origin: 'http://localhost:5173' },
    INITIALIZE,
  );
  assert.equal(loopbackOrigin.status, 200);

  const garbled = await rawPost('/mcp', auth.header('admin'), '{"jsonrpc": "2.0",');
  assert.equal(garbled.status, 400);
  assert.equal((JSON.parse(garbled.body) as { error: { code: number } }).error.code, -32700);

  // Streams are resumable: a 2025-11-25 client gets an event id to resume from before anything else.
  const resumable = await rawPost('/mcp', auth.header('admin'), {
    ...INITIALIZE,
    params: { ...INITIALIZE.params, protocolVersion: '2025-11-25' },
  });
  assert.equal(resumable.status, 200);
  assert.match(resumable.body, /^id: \S+~\d+\n/);

  const { transport } = await connect('operator');
  const sessionId = transport.sessionId as string;
  const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
  const hijack = await rawPost('/mcp', { ...auth.header('ana'), 'mcp-session-id': sessionId }, list);
  assert.equal(hijack.status, 403, 'another user may not use the session');
  const unknown = await rawPost('/mcp', { ...auth.header('operator'), 'mcp-session-id': randomUUID() }, list);
  assert.equal(unknown.status, 404);
  await transport.terminateSession();
  const ended = await rawPost('/mcp', { ...auth.header('operator'), 'mcp-session-id': sessionId }, list);
  assert.equal(ended.status, 404, 'DELETE ended the session');
  const noSession = await rawPost('/mcp', auth.header('operator'), list);
  assert.equal(noSession.status, 400);
});

test('the REST routes under /mcp/ are unchanged', async () => {
  const servers = await rest('GET', '/mcp/servers');
  assert.equal(servers.status, 200, await servers.clone().text());
  assert.ok(Array.isArray(((await servers.json()) as { servers: unknown }).servers));
  const docs = (await (await rest('GET', '/docs-json')).json()) as { paths: Record<string, unknown> };
  assert.ok(docs.paths['/mcp/servers']);
  assert.equal(docs.paths['/mcp'], undefined, '/mcp is left out of the OpenAPI document');
});
