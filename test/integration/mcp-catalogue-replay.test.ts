/**
 * Replay safety of tool catalogues. A published server never changes its tools on demand, so an
 * McpServer from the SDK (over in-memory transports) stands in: the test changes its tools while
 * runs are in flight, and while a run is handed to a freshly deployed worker with a warm cache.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { z } from 'zod';
import { McpClientPool } from '../../activities/mcp/pool';
import { approveUpdate, progressQuery } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import type { ToolCatalogue } from '../../workflows/contracts/tool';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { inMemoryServer } from '../fixtures/mcp/in-memory-server';
import { activityAttempts, startMcpWorker, waitUntil, type McpWorker, type RunHandle } from '../fixtures/mcp/harness';

const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });

/**
 * Tool sets by version. v1: greet(name). v2: greet(name, greeting?) and farewell(name).
 * v3: greet(name, greeting?, punctuation?), farewell gone, wave added.
 */
function defineTools(server: McpServer, version: number, handles: Map<string, RegisteredTool>): void {
  for (const h of handles.values()) h.remove();
  handles.clear();
  const greetShape: Record<string, z.ZodType> =
    version === 1
      ? { name: z.string() }
      : {
          name: z.string(),
          greeting: z.string().optional(),
          ...(version >= 3 ? { punctuation: z.string().optional() } : {}),
        };
  handles.set(
    'greet',
    server.registerTool('greet', { description: `greet v${version}`, inputSchema: greetShape }, async (args) =>
      text(`${String(args.greeting ?? 'Hello')}, ${String(args.name)} (v${version})`),
    ),
  );
  if (version === 2) {
    handles.set(
      'farewell',
      server.registerTool('farewell', { inputSchema: { name: z.string() } }, async ({ name }) => text(`Bye, ${name}`)),
    );
  }
  if (version >= 3)
    handles.set(
      'wave',
      server.registerTool('wave', {}, async () => text('o/')),
    );
}

let version = 1;
const liveServers: Array<{ server: McpServer; handles: Map<string, RegisteredTool> }> = [];
const tools = inMemoryServer((server) => {
  const handles = new Map<string, RegisteredTool>();
  defineTools(server, version, handles);
  liveServers.push({ server, handles });
});

function changeTools(to: number): void {
  version = to;
  for (const live of liveServers) defineTools(live.server, to, live.handles);
}

const poolOf = () =>
  new McpClientPool(
    {
      servers: {
        mem: { name: 'mem', transport: 'stdio', command: 'unused', args: [], env: {}, cwd: '.', source: 'test' },
      },
      disabled: [],
      files: [],
    },
    { transportFactory: tools.factory },
  );

let env: TestWorkflowEnvironment;
let pool: McpClientPool;
let mcp: McpWorker;

before(async () => {
  env = await createTestEnv();
  pool = poolOf();
  mcp = await startMcpWorker(env, { pool });
});

after(async () => {
  await mcp?.stop();
  await pool?.close();
  await env?.teardown();
});

const step = (id: string, tool: string, args: Record<string, unknown>) => ({
  id,
  kind: 'tool' as const,
  tool: `mem.${tool}`,
  args,
});
const spec: Spec = {
  name: 'mcp-catalogue',
  steps: [
    step('hello', 'greet', { name: 'first' }),
    { id: 'gate', kind: 'approval', prompt: 'change the tools now' },
    step('again', 'greet', { name: 'second' }),
    step('bye', 'farewell', { name: 'third' }),
  ],
  output: { hello: '${steps.hello.output.text}', again: '${steps.again.output.text}', bye: '${steps.bye.output.text}' },
};

async function waitForGate(handle: RunHandle): Promise<void> {
  const end = Date.now() + 20_000;
  while ((await handle.query(progressQuery)).phase !== 'waiting_approval') {
    if (Date.now() > end) throw new Error('the run never reached the gate');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The catalogues a run recorded, in order: the results of its mcpListTools activities. */
async function recordedCatalogues(handle: RunHandle): Promise<string[][]> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, string>();
  const out: string[][] = [];
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes)
      scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
    const done = e.activityTaskCompletedEventAttributes;
    if (done && scheduled.get(String(done.scheduledEventId)) === 'mcpListTools') {
      const catalogue = defaultPayloadConverter.fromPayload<ToolCatalogue>(done.result!.payloads![0]!);
      out.push(catalogue.tools.map((t) => t.name));
    }
  }
  return out;
}

test('a run keeps the catalogue it saw when the server changes its tools mid-run; its history replays', async () => {
  const handle = await mcp.start(spec);
  await waitForGate(handle);
  changeTools(2);
  // The worker's pool learns at once (list_changed): a new run would see v2.
  await waitUntil('the pool to see the v2 tools', () => pool.inventory()[0]?.toolCount === 2);
  await handle.executeUpdate(approveUpdate, { args: [{ stepId: 'gate', decision: 'approve', by: 'test' }] });
  const result = await handle.result();
  assert.deepEqual(result.output, { hello: 'Hello, first (v1)', again: 'Hello, second (v2)', bye: 'Bye, third' });

  // `again` used the run's v1 snapshot (no new listing); `bye` named a tool the snapshot lacked,
  // which costs one more listing — recorded like the first.
  assert.deepEqual(await recordedCatalogues(handle), [['greet'], ['greet', 'farewell']]);
  assert.deepEqual(
    (await activityAttempts(handle)).map((a) => a.activity),
    ['mcpListTools', 'mcpCallTool', 'mcpCallTool', 'mcpListTools', 'mcpCallTool'],
  );

  // The tools change again; replaying the history against today's code (and a warm, different
  // cache in this process) must give the same commands.
  changeTools(3);
  await waitUntil('the pool to see the v3 tools', () =>
    pool
      .connection('mem')
      .catalogue.peek()
      ?.tools.some((t) => t.name === 'wave'),
  );
  const history = await handle.fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: await bundleWorkflowsOnce() }, history, handle.workflowId);
});

test('a redeployed worker with a warm cache of different tools continues a running workflow', async () => {
  changeTools(1);
  const oldPool = poolOf();
  const first = await startMcpWorker(env, { pool: oldPool });
  const handle = await first.start({ ...spec, steps: spec.steps.slice(0, 3), output: undefined });
  await waitForGate(handle);
  await first.stop();
  await oldPool.close();

  // The new deployment's pool already knows the v3 tools before it sees the run.
  changeTools(3);
  const newPool = poolOf();
  try {
    assert.deepEqual(
      (await newPool.listTools('mem')).map((t) => t.name),
      ['greet', 'wave'],
    );
    const second = await startMcpWorker(env, { pool: newPool, taskQueue: first.taskQueue });
    try {
      // The new worker has never seen this run: it replays the history (v1 snapshot) and goes on.
      await handle.executeUpdate(approveUpdate, { args: [{ stepId: 'gate', decision: 'approve', by: 'test' }] });
      const result = await handle.result();
      assert.deepEqual((result.output as { again: { text: string } }).again.text, 'Hello, second (v3)');
      assert.deepEqual(await recordedCatalogues(handle), [['greet']], 'no new listing: the run kept its snapshot');
    } finally {
      await second.stop();
    }
  } finally {
    await newPool.close();
  }
  await Worker.runReplayHistory(
    { workflowBundle: await bundleWorkflowsOnce() },
    await handle.fetchHistory(),
    handle.workflowId,
  );
});
