/**
 * The orchestrator as an MCP server over stdio: `npx tsx api/mcp-stdio.ts` spawned by the MCP
 * SDK's StdioClientTransport, pointed at a real Temporal dev server (the orchestrator worker runs
 * in this process) and at the spec store of an API this test runs, through which specs are
 * registered. Identities come from real static tokens (test/helpers/api-auth.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ResourceListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { TemporalConfig } from '../../temporal/config';
import { ok, refused, resourceJson } from '../helpers/mcp-tool-results';
import { testAuth, type TestUser } from '../helpers/api-auth';
import { startTestApp, type TestApp } from '../helpers/api-app';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess, testDataEnv, testTemporalConfig } from '../helpers/worker';

const REPO_ROOT = path.resolve(__dirname, '../..');
const auth = testAuth();
let env: TestWorkflowEnvironment;
let temporal: TemporalConfig;
let stopWorker: () => Promise<void>;
let api: TestApp;
const clients: Client[] = [];

const SPEC = {
  name: 'stdio-release',
  inputs: { ticket: { type: 'string' } },
  steps: [{ id: 'approve', kind: 'approval', prompt: 'Ship ${inputs.ticket}?', approvers: ['admin'], timeout: '1h' }],
};

/** What the stdio server reads: the test's Temporal server and queue, the API's spec store, the tokens file. */
function serverEnv(user: TestUser | null, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    ORCHESTRATOR_TASK_QUEUE: temporal.taskQueue,
    SPEC_STORE_DIR: path.join(api.dir, 'specs'),
    WEBHOOK_STORE_DIR: path.join(api.dir, 'webhooks'),
    AUTH_TOKENS_FILE: auth.tokensFile,
    MCP_SPEC_POLL_MS: '200',
    MCP_WAIT_POLL_MS: '200',
    ...(user && { MCP_STDIO_TOKEN: auth.tokens[user] }),
    ...extra,
  };
}

async function connect(user: TestUser | null): Promise<{ client: Client; errors: Error[]; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: 'npx',
    args: ['tsx', 'api/mcp-stdio.ts'],
    cwd: REPO_ROOT,
    env: serverEnv(user),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'mcp-server-stdio-test', version: '1.0.0' });
  // Anything on stdout that is not a protocol message shows up here.
  const errors: Error[] = [];
  client.onerror = (err) => errors.push(err);
  await client.connect(transport);
  clients.push(client);
  return { client, errors, stderr: () => stderr };
}

async function register(spec: object): Promise<void> {
  const res = await fetch(`${api.baseUrl}/specs`, {
    method: 'POST',
    headers: { ...auth.header('admin'), 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  assert.equal(res.status, 201, await res.text());
}

before(async () => {
  env = await createTestEnv();
  temporal = testTemporalConfig(env, `mcp-server-stdio-${randomUUID()}`);
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: loadOrchestratorWorkerConfig(testDataEnv()),
    workflowBundle: await bundleWorkflowsOnce(),
    identityEnv: auth.env,
  });
  stopWorker = runInProcess(worker);
  api = await startTestApp({ temporal, auth: auth.auth, client: env.client });
  await register(SPEC);
});

after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await api?.stop();
  await stopWorker?.();
  await env?.teardown();
});

test('over stdio as the token’s identity: start, follow with progress, decide (refused, then taken), read resources', async () => {
  const { client, errors, stderr } = await connect('admin');
  assert.equal(client.getServerVersion()?.name, 'durable-agents');
  assert.ok((await client.listPrompts()).prompts.some((p) => p.name === 'stdio-release'));
  assert.ok((await client.listResources()).resources.some((r) => r.uri === 'spec://stdio-release'));

  const { workflowId } = await ok<{ workflowId: string }>(client, 'start_run', {
    specName: 'stdio-release',
    inputs: { ticket: 'S-1' },
    runId: `s-${randomUUID()}`,
  });
  const progress: Array<{ progress: number; message?: string }> = [];
  let waitingSeen!: () => void;
  const approvalShown = new Promise<void>((resolve) => (waitingSeen = resolve));
  const waited = client.callTool({ name: 'wait_for_run', arguments: { workflowId, timeoutSeconds: 120 } }, undefined, {
    timeout: 150_000,
    onprogress: (p) => {
      progress.push(p);
      if (p.message?.includes('waiting for approval: approve')) waitingSeen();
    },
  });
  await approvalShown;

  assert.match(
    await refused(client, 'decide_approval', { workflowId, stepId: 'ship', decision: 'approve' }),
    /Conflict \(409\): .*not waiting/,
  );
  const decided = await ok<{ by: string; decision: string }>(client, 'decide_approval', {
    workflowId,
    stepId: 'approve',
    decision: 'approve',
  });
  assert.deepEqual([decided.by, decided.decision], ['admin', 'approve']);
  const outcome = ((await waited) as CallToolResult).structuredContent as {
    finished: boolean;
    run: { status: string };
  };
  assert.deepEqual([outcome.finished, outcome.run.status], [true, 'completed']);
  assert.ok(progress.length >= 1, `progress: ${JSON.stringify(progress)}`);
  assert.match(
    await refused(client, 'decide_approval', { workflowId, stepId: 'approve', decision: 'reject' }),
    /Conflict \(409\)/,
  );

  const run = resourceJson<{ status: string; spec: string }>(
    await client.readResource({ uri: `run://${encodeURIComponent(workflowId)}` }),
  );
  assert.deepEqual([run.status, run.spec], ['completed', 'stdio-release']);
  const spec = resourceJson<{ version: number }>(await client.readResource({ uri: 'spec://stdio-release' }));
  assert.equal(spec.version, 1);

  assert.match(await refused(client, 'start_run', { specName: 'stdio-release', inputs: {} }), /inputs\.ticket/);
  assert.deepEqual(errors, [], 'stdout carried only protocol messages');
  assert.match(stderr(), /serving over stdio as "admin"/);
});

test('a spec registered by the API is announced to the stdio session (list_changed)', async () => {
  const { client } = await connect('viewer');
  const changed = new Promise<void>((resolve) =>
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => resolve()),
  );
  const name = `stdio-new-${randomUUID().slice(0, 8)}`;
  await register({ ...SPEC, name });
  await changed;
  assert.ok((await client.listResources()).resources.some((r) => r.uri === `spec://${name}`));
  assert.ok((await client.listPrompts()).prompts.some((p) => p.name === name));
});

test('without MCP_STDIO_TOKEN the server reads only; a token it cannot verify stops it', async () => {
  const { client } = await connect(null);
  assert.match(
    await refused(client, 'start_run', { specName: 'stdio-release', inputs: { ticket: 'S-2' } }),
    /"mcp-stdio" holds viewer; this needs the operator role/,
  );
  assert.match(
    await refused(client, 'decide_approval', { workflowId: 'x', stepId: 'y', decision: 'approve' }),
    /needs the approver role/,
  );
  assert.ok((await ok<{ specs: unknown[] }>(client, 'list_specs', {})).specs.length >= 1);

  const child = spawn('npx', ['tsx', 'api/mcp-stdio.ts'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...serverEnv(null, { MCP_STDIO_TOKEN: 'wrong' }),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(stderr, /mcp refused to start: .*MCP_STDIO_TOKEN/s);
  assert.equal(stdout, '');
});
