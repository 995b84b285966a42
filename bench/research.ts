/**
 * `research` with N=10 researchers and M=3 synthesisers against the stand-in model server (a
 * local HTTP server speaking the OpenAI wire format; no hosted model) with a fixed 200 ms model
 * latency, on a real Temporal dev server and an in-process orchestrator worker. Prints the wall
 * time of a run against its critical path — the model calls that must follow one another (plan,
 * researcher turns, synthesiser, executive) at 200 ms each, plus the longest researcher's tool
 * time — as a ratio.
 *
 *   npx tsx bench/research.ts [runs=5]
 */
import os from 'node:os';
import { temporal } from '@temporalio/proto';
import type { McpClientPool } from '../activities/mcp/pool';
import type { ResearchOutput } from '../workflows/orchestrations/research';
import { createTestEnv } from '../test/helpers/temporal';
import { everythingPool, startLlmWorker, type RunHandle } from '../test/fixtures/llm/harness';
import { StandInModelServer } from '../test/fixtures/llm/model-server';
import { researchScript } from '../test/fixtures/llm/research-script';
import { LATENCY_MS, M, N, researchSpec } from './support/research-shape';

const EventType = temporal.api.enums.v1.EventType;

/** Longest mcpCallTool activity of the run, scheduled to completed, from its history. */
async function longestToolMs(handle: RunHandle): Promise<number> {
  const events = (await handle.fetchHistory()).events ?? [];
  const at = (e: (typeof events)[number]) => Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
  const scheduled = new Map<string, number>();
  let longest = 0;
  for (const e of events) {
    if (
      e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
      e.activityTaskScheduledEventAttributes?.activityType?.name === 'mcpCallTool'
    ) {
      scheduled.set(String(e.eventId), at(e));
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const from = scheduled.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
      if (from !== undefined) longest = Math.max(longest, at(e) - from);
    }
  }
  return longest;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const env = await createTestEnv();
  const server = await StandInModelServer.start();
  server.latencyMs = LATENCY_MS;
  const pool: McpClientPool = everythingPool();
  const worker = await startLlmWorker(env, server, { mcpPool: pool });
  try {
    console.log(
      `machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString()}`,
    );
    console.log(
      `research N=${N} M=${M}, stand-in model latency ${LATENCY_MS} ms, ${runs} runs each (plus one warm-up), medians:`,
    );
    for (const withTools of [false, true]) {
      server.script = researchScript(
        withTools ? { researcherTool: { name: 'everything__get-sum', arguments: { a: 1, b: 2 } } } : {},
      );
      // Researcher turns: one, or two around a tool call. Plan, synthesiser and executive: one each.
      const sequentialCalls = 1 + (withTools ? 2 : 1) + 1 + 1;
      const walls: number[] = [];
      const tools: number[] = [];
      for (let i = 0; i <= runs; i++) {
        server.exchanges.length = 0;
        const started = performance.now();
        const handle = await worker.start(researchSpec('bench-research', withTools));
        const result = await handle.result();
        const wall = performance.now() - started;
        const out = (result.output as { research: ResearchOutput }).research;
        if (out.findings.length !== N || out.syntheses.length !== M)
          throw new Error('research run produced the wrong tree');
        if (i === 0) continue; // warm-up: bundle caches, MCP server start
        walls.push(wall);
        tools.push(withTools ? await longestToolMs(handle) : 0);
      }
      const wall = median(walls);
      const tool = median(tools);
      const critical = sequentialCalls * LATENCY_MS + tool;
      console.log(
        `  ${withTools ? 'one tool call per researcher' : 'no tools                    '}: wall ${wall.toFixed(0)} ms, ` +
          `critical path ${critical.toFixed(0)} ms (${sequentialCalls} × ${LATENCY_MS} ms${withTools ? ` + ${tool.toFixed(0)} ms tool` : ''}), ` +
          `ratio ${(wall / critical).toFixed(2)}, model requests per run ${server.exchanges.length}`,
      );
    }
  } finally {
    await worker.stop();
    await pool.close();
    await server.close();
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
