/**
 * server-everything over the network: its Streamable HTTP mode, and its legacy SSE mode reached
 * through a config that says only `url` (the pool falls back to SSE when the POST gets a 4xx).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { McpClientPool } from '../../activities/mcp/pool';
import type { Spec } from '../../workflows/contracts/spec';
import { createTestEnv } from '../helpers/temporal';
import {
  activityAttempts,
  startEverythingOverHttp,
  startMcpWorker,
  type HttpServerProcess,
  type McpWorker,
} from '../fixtures/mcp/harness';

let env: TestWorkflowEnvironment;
let mcp: McpWorker;
let pool: McpClientPool;
let streamable: HttpServerProcess;
let legacy: HttpServerProcess;

before(async () => {
  [env, streamable, legacy] = await Promise.all([
    createTestEnv(),
    startEverythingOverHttp('streamableHttp'),
    startEverythingOverHttp('sse'),
  ]);
  pool = new McpClientPool({
    servers: {
      remote: { name: 'remote', transport: 'http', url: streamable.url, headers: { 'X-Test': 'yes' }, source: 'test' },
      old: { name: 'old', transport: 'http', url: legacy.url, headers: {}, source: 'test' },
    },
    disabled: [],
    files: [],
  });
  mcp = await startMcpWorker(env, { pool });
});

after(async () => {
  await mcp?.stop();
  await pool?.close();
  await Promise.all([streamable?.stop(), legacy?.stop()]);
  await env?.teardown();
});

const echo = (id: string, server: string, message: string) => ({
  id,
  kind: 'tool' as const,
  tool: `${server}.echo`,
  args: { message },
  heartbeatTimeout: '2s',
  retry: { maxAttempts: 2, initialInterval: '200ms' },
});

test('tool steps over Streamable HTTP and over SSE (fallback), sessions kept across runs', async () => {
  const spec: Spec = {
    name: 'mcp-http',
    steps: [
      {
        id: 'both',
        kind: 'parallel',
        branches: [[echo('viaHttp', 'remote', 'over http')], [echo('viaSse', 'old', 'over sse')]],
      },
      {
        id: 'weather',
        kind: 'tool',
        tool: 'remote.get-structured-content',
        args: { location: 'Los Angeles' },
      },
    ],
    output: {
      http: '${steps.viaHttp.output.text}',
      sse: '${steps.viaSse.output.text}',
      temp: '${steps.weather.output.structured.temperature}',
    },
  };
  const results = await Promise.all([mcp.run(spec), mcp.run(spec), mcp.run(spec)]);
  for (const r of results) assert.deepEqual(r.output, { http: 'Echo: over http', sse: 'Echo: over sse', temp: 73 });

  const byName = Object.fromEntries(pool.inventory().map((s) => [s.name, s]));
  assert.equal(byName.remote?.connectedVia, 'http');
  assert.equal(byName.old?.connectedVia, 'sse', 'a 4xx on the Streamable HTTP POST falls back to SSE');
  assert.equal(byName.remote?.connects, 1, 'one session for every run');
  assert.equal(byName.old?.connects, 1);
});

test('a restarted HTTP server gets a new session: the step retries once and goes on', async () => {
  await pool.callTool('remote', 'echo', { message: 'session 1' });
  const before = pool.inventory().find((s) => s.name === 'remote')?.connects ?? 0;
  await streamable.stop();
  streamable = await startEverythingOverHttp('streamableHttp', Number(new URL(streamable.url).port));
  const handle = await mcp.start({ name: 'mcp-http-restart', steps: [echo('after', 'remote', 'session 2')] });
  const { output } = await handle.result();
  assert.deepEqual(output, {
    after: { text: 'Echo: session 2', content: [{ type: 'text', text: 'Echo: session 2' }] },
  });
  assert.equal(pool.inventory().find((s) => s.name === 'remote')?.connects, before + 1);
  const calls = (await activityAttempts(handle)).filter((a) => a.activity === 'mcpCallTool');
  assert.deepEqual(
    calls,
    [{ activity: 'mcpCallTool', attempt: 2 }],
    'the stale session failed once, then a new one served',
  );
});

test('a server that is down fails to connect and shows as failed with the reason', async () => {
  const down = new McpClientPool({
    servers: { gone: { name: 'gone', transport: 'http', url: 'http://127.0.0.1:9/mcp', headers: {}, source: 'test' } },
    disabled: [],
    files: [],
  });
  try {
    await assert.rejects(down.listTools('gone'), /cannot connect to MCP server "gone"/);
    assert.equal(down.inventory()[0]?.status, 'failed');
    assert.match(down.inventory()[0]?.lastError ?? '', /cannot connect/);
  } finally {
    await down.close();
  }
});
