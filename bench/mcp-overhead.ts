/**
 * What a durable tool call costs: one `everything.echo` through a workflow (a one-step runSpec run)
 * against the same call made directly with the MCP SDK to the same server (its own stdio process),
 * for 1 and for 50 concurrent calls. Prints medians and ratios; asserts nothing.
 *
 *   npx tsx bench/mcp-overhead.ts [rounds-at-1=40] [rounds-at-50=6]
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { McpClientPool } from '../activities/mcp/pool';
import { bundleWorkflowsOnce, createTestEnv } from '../test/helpers/temporal';
import { loadOrchestratorWorkerConfig } from '../workers/orchestrator-config';
import { createOrchestratorWorker } from '../workers/orchestrator-worker';
import type { runSpec } from '../workflows/interpreter';
import { RUN_SPEC_WORKFLOW } from '../workflows/contracts/run';
import { type Spec } from '../workflows/contracts/spec';

const EVERYTHING = path.join(
  path.dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist',
  'index.js',
);
/** Above the largest concurrency measured, so the figures show overhead, not the pool's queue. */
const POOL_BOUND = 64;

const toolSpec: Spec = {
  name: 'bench-mcp-echo',
  steps: [{ id: 'echo', kind: 'tool', tool: 'everything.echo', args: { message: 'ping' } }],
};
/** Temporal's own floor on this machine: the same one-step run around an activity that does nothing. */
const noopSpec: Spec = { name: 'bench-noop', steps: [{ id: 'noop', kind: 'activity', activity: 'benchNoop' }] };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;

function eventMs(e: temporal.api.history.v1.IHistoryEvent): number {
  const t = e.eventTime;
  const seconds = typeof t?.seconds === 'number' ? t.seconds : (t?.seconds?.toNumber() ?? 0);
  return seconds * 1000 + (t?.nanos ?? 0) / 1e6;
}

/** ActivityTaskScheduled → ActivityTaskCompleted of the run's `activity`, from its history. */
async function scheduleToResult(handle: WorkflowHandle<typeof runSpec>, activity: string): Promise<number> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map<string, number>();
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name === activity) scheduled.set(String(e.eventId), eventMs(e));
    const done = e.activityTaskCompletedEventAttributes;
    if (done && scheduled.has(String(done.scheduledEventId)))
      return eventMs(e) - scheduled.get(String(done.scheduledEventId))!;
  }
  throw new Error(`no completed ${activity} in ${handle.workflowId}`);
}

async function main(): Promise<void> {
  const roundsAt1 = Number(process.argv[2] ?? 40);
  const roundsAt50 = Number(process.argv[3] ?? 6);
  const env = await createTestEnv();
  const pool = new McpClientPool(
    {
      servers: {
        everything: {
          name: 'everything',
          transport: 'stdio',
          command: process.execPath,
          args: [EVERYTHING, 'stdio'],
          env: {},
          cwd: process.cwd(),
          source: 'bench',
        },
      },
      disabled: [],
      files: [],
    },
    { maxConcurrencyPerServer: POOL_BOUND },
  );
  const direct = new Client({ name: 'bench-direct', version: '1.0.0' });
  await direct.connect(
    new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' }),
  );
  const taskQueue = `bench-mcp-${randomUUID()}`;
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal: { address: env.address, namespace: 'default', uiUrl: '', taskQueue },
    config: loadOrchestratorWorkerConfig({}),
    workflowBundle: await bundleWorkflowsOnce(),
    mcpPool: pool,
    activities: { benchNoop: async () => null },
  });
  const running = worker.run();

  const directCall = async (): Promise<number> => {
    const t = performance.now();
    await direct.callTool({ name: 'echo', arguments: { message: 'ping' } });
    return performance.now() - t;
  };
  const workflowCall = async (spec: Spec, activity: string): Promise<{ run: number; activity: number }> => {
    const t = performance.now();
    const handle = await env.client.workflow.start<typeof runSpec>(RUN_SPEC_WORKFLOW, {
      taskQueue,
      workflowId: `bench-${randomUUID()}`,
      args: [{ spec }],
    });
    await handle.result();
    const run = performance.now() - t;
    return { run, activity: await scheduleToResult(handle, activity) };
  };
  const toolCall = () => workflowCall(toolSpec, 'mcpCallTool');
  const noopCall = () => workflowCall(noopSpec, 'spec.benchNoop');

  try {
    // Warm both paths: server start, first workflow task, catalogue fetch, JIT.
    for (let i = 0; i < 5; i++) await Promise.all([directCall(), toolCall(), noopCall()]);

    const rows: string[][] = [];
    for (const [concurrency, rounds] of [
      [1, roundsAt1],
      [50, roundsAt50],
    ] as const) {
      const directTimes: number[] = [];
      const tool = { run: [] as number[], activity: [] as number[] };
      const noop = { run: [] as number[], activity: [] as number[] };
      const collect = (into: typeof tool, results: Array<{ run: number; activity: number }>) => {
        for (const r of results) {
          into.run.push(r.run);
          into.activity.push(r.activity);
        }
      };
      for (let r = 0; r < rounds; r++) {
        directTimes.push(...(await Promise.all(Array.from({ length: concurrency }, directCall))));
        collect(tool, await Promise.all(Array.from({ length: concurrency }, toolCall)));
        collect(noop, await Promise.all(Array.from({ length: concurrency }, noopCall)));
      }
      const d = median(directTimes);
      const a = median(tool.activity);
      const w = median(tool.run);
      rows.push([
        String(concurrency),
        String(directTimes.length),
        ms(d),
        ms(a),
        ms(w),
        `${(a / d).toFixed(1)}x`,
        `${(w / d).toFixed(1)}x`,
        ms(median(noop.activity)),
        ms(median(noop.run)),
      ]);
    }
    const header = [
      'concurrent',
      'calls',
      'direct SDK',
      'schedule→result',
      'start→result',
      'ratio (schedule)',
      'ratio (run)',
      'noop schedule→result',
      'noop start→result',
    ];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
    console.log('MCP tool call: everything.echo over stdio, medians per call');
    console.log('  direct SDK      = Client.callTool on its own stdio connection to the same server');
    console.log('  schedule→result = ActivityTaskScheduled → ActivityTaskCompleted in the run history');
    console.log('  start→result    = client workflow.start of a one-step run → its result (includes the');
    console.log("                    run's one tools/list activity, which records its catalogue)");
    console.log("  noop            = the same run around an activity that does nothing: Temporal's floor here");
    console.log(`  pool bound ${POOL_BOUND} requests in flight per server\n`);
    console.log(line(header));
    for (const r of rows) console.log(line(r));
  } finally {
    worker.shutdown();
    await running;
    await pool.close();
    await direct.close();
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
