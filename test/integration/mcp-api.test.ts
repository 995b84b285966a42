/**
 * GET /mcp/servers and /mcp/tools through Nest: the API asks a real orchestrator worker (over
 * Temporal) for its pool, which holds server-everything over stdio and a server that cannot start.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { McpModule } from '../../api/mcp/mcp.module';
import type { McpServersResponse, McpToolsResponse } from '../../api/mcp/mcp-views';
import { ApiExceptionFilter } from '../../api/temporal/api-exception.filter';
import { TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../../api/tokens';
import { buildRunsQuery } from '../../api/workflows/visibility-query';
import { MCP_INVENTORY_WORKFLOW } from '../../workflows/mcp-inventory';
import { McpClientPool } from '../../activities/mcp/pool';
import type { TemporalConfig } from '../../temporal/config';
import { createTestEnv } from '../helpers/temporal';
import { EVERYTHING_SERVER, startMcpWorker, type McpWorker } from '../fixtures/mcp/harness';

@Module({})
class TestCoreModule {
  static forRoot(env: TestWorkflowEnvironment, config: TemporalConfig): DynamicModule {
    return {
      module: TestCoreModule,
      global: true,
      providers: [
        { provide: TEMPORAL_CLIENT, useValue: env.client },
        { provide: TEMPORAL_CONFIG, useValue: config },
      ],
      exports: [TEMPORAL_CLIENT, TEMPORAL_CONFIG],
    };
  }
}

async function appFor(
  env: TestWorkflowEnvironment,
  taskQueue: string,
): Promise<{ app: INestApplication; url: string }> {
  const config: TemporalConfig = {
    address: env.address,
    namespace: env.namespace ?? 'default',
    uiUrl: 'http://127.0.0.1:8233',
    taskQueue,
  };
  const app = await NestFactory.create(
    { module: class McpApiTestModule {}, imports: [TestCoreModule.forRoot(env, config), McpModule] },
    { logger: false },
  );
  app.useGlobalFilters(new ApiExceptionFilter());
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

let env: TestWorkflowEnvironment;
let pool: McpClientPool;
let mcp: McpWorker;
let api: { app: INestApplication; url: string };

before(async () => {
  env = await createTestEnv();
  pool = new McpClientPool({
    servers: {
      everything: {
        name: 'everything',
        transport: 'stdio',
        command: process.execPath,
        args: [EVERYTHING_SERVER, 'stdio'],
        env: {},
        cwd: process.cwd(),
        source: '/srv/.mcp.json',
      },
      broken: {
        name: 'broken',
        transport: 'stdio',
        command: '/nonexistent/mcp-server',
        args: [],
        env: {},
        cwd: process.cwd(),
        source: '/srv/.mcp.json',
      },
    },
    disabled: ['retired'],
    files: ['/srv/.mcp.json'],
  });
  mcp = await startMcpWorker(env, { pool });
  api = await appFor(env, mcp.taskQueue);
});

after(async () => {
  await api?.app.close();
  await mcp?.stop();
  await pool?.close();
  await env?.teardown();
});

async function get<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

test('GET /mcp/servers reports the worker pool without starting anything', async () => {
  const { status, body } = await get<McpServersResponse>(`${api.url}/mcp/servers`);
  assert.equal(status, 200);
  assert.equal(body.worker.pid, process.pid, 'answered by the worker in this process');
  assert.equal(body.worker.taskQueue, mcp.taskQueue);
  assert.deepEqual(
    body.servers.map((s) => [s.name, s.transport, s.status, s.toolCount]),
    [
      ['everything', 'stdio', 'idle', null],
      ['broken', 'stdio', 'idle', null],
    ],
  );
  assert.deepEqual(body.disabled, ['retired']);
});

test('GET /mcp/tools lists every tool as server.tool and says which servers failed', async () => {
  const { status, body } = await get<McpToolsResponse>(`${api.url}/mcp/tools`);
  assert.equal(status, 200);
  const addresses = body.tools.map((t) => t.address);
  assert.ok(addresses.includes('everything.echo') && addresses.includes('everything.get-sum'), addresses.join(', '));
  assert.deepEqual(body.tools.find((t) => t.address === 'everything.echo')?.inputSchema.required, ['message']);
  assert.deepEqual(Object.keys(body.errors), ['broken']);
  assert.match(body.errors.broken ?? '', /cannot connect to MCP server "broken": .*ENOENT/);

  const after = await get<McpServersResponse>(`${api.url}/mcp/servers`);
  const everything = after.body.servers.find((s) => s.name === 'everything');
  assert.equal(everything?.status, 'connected');
  assert.equal(everything?.toolCount, addresses.length);
  assert.equal(after.body.servers.find((s) => s.name === 'broken')?.status, 'failed');
});

test('GET /mcp/servers?connect=true connects first; a bad query is a 400 naming the field', async () => {
  const ok = await get<McpServersResponse>(`${api.url}/mcp/servers?connect=true`);
  assert.equal(ok.status, 200);
  assert.ok((ok.body.servers[0]?.toolCount ?? 0) > 0);
  const bad = await get<{ issues: Array<{ path: string }> }>(`${api.url}/mcp/servers?connect=maybe`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.issues[0]?.path, 'connect');
});

test('with no worker on the task queue the API answers 503 instead of waiting', async () => {
  const lonely = await appFor(env, 'nobody-polls-this-queue');
  try {
    const { status, body } = await get<{ message: string }>(`${lonely.url}/mcp/servers`);
    assert.equal(status, 503);
    assert.match(body.message, /no orchestrator worker is polling task queue "nobody-polls-this-queue"/);
  } finally {
    await lonely.app.close();
  }
});

test('inventory reads are cached briefly, run as their own workflow type and stay out of GET /workflows', async () => {
  const { workflowService } = env.client;
  const countInventoryRuns = async (): Promise<number> => {
    const { count } = await workflowService.countWorkflowExecutions({
      namespace: env.namespace ?? 'default',
      query: `WorkflowType = "${MCP_INVENTORY_WORKFLOW}" AND TaskQueue = "${mcp.taskQueue}"`,
    });
    return Number(count);
  };
  const fresh = await appFor(env, mcp.taskQueue);
  try {
    const before = await countInventoryRuns();
    const answers = await Promise.all([1, 2, 3].map(() => get<McpToolsResponse>(`${fresh.url}/mcp/tools`)));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200],
    );
    assert.equal((await get<McpServersResponse>(`${fresh.url}/mcp/servers`)).status, 200);
    // Visibility is eventually consistent: wait until the one new run is counted, then check it stayed one.
    for (let i = 0; i < 50 && (await countInventoryRuns()) === before; i++) await sleep(100);
    assert.equal((await countInventoryRuns()) - before, 1, 'four reads within the cache window → one run');
    const listed = await workflowService.countWorkflowExecutions({
      namespace: env.namespace ?? 'default',
      query: `${buildRunsQuery({})} AND TaskQueue = "${mcp.taskQueue}"`,
    });
    assert.equal(Number(listed.count), 0, 'the runs GET /workflows lists exclude inventory reads');
  } finally {
    await fresh.app.close();
  }
});
