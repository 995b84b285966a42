/**
 * Long agent loops with bounded history: the conversation lives in the blob store (each turn's
 * input is a reference plus what the turn adds), and a loop longer than the run's
 * `maxInlineAgentTurns` runs in its own child workflow that continues as new, asking its parent
 * run for approvals and budget. The model is the stand-in server (a local HTTP server speaking
 * the OpenAI wire format, scripted per test), as no hosted model is reachable offline; the tools
 * are real: the published MCP server-everything over stdio. Every execution's history is fetched
 * and measured, and the figures are printed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { McpClientPool } from '../../activities/mcp/pool';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { AGENT_LOOP_WORKFLOW } from '../../workflows/llm/agent-workflow';
import type { AgentProgress } from '../../workflows/llm/agent-loop';
import {
  approveUpdate,
  progressQuery,
  RUN_SPEC_WORKFLOW,
  type RunInput,
  type RunOptions,
  type RunResult,
} from '../../workflows/contracts/run';
import type { Spec, AgentStep } from '../../workflows/contracts/spec';
import { everythingPool, standInEnv } from '../fixtures/llm/harness';
import { StandInModelServer } from '../fixtures/llm/model-server';
import { describeSizes, measureExecutions, type ExecutionSize } from '../helpers/history-size';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess, testTemporalConfig } from '../helpers/worker';

type Handle = WorkflowHandleWithFirstExecutionRunId<(i: RunInput) => Promise<RunResult>>;

const MAX_EVENTS = 10_000;
const MAX_BYTES = 10 * 1024 * 1024;
const KiB = 1024;

let env: TestWorkflowEnvironment;
let server: StandInModelServer;
let pool: McpClientPool;
let blobDir: string;
let taskQueue: string;
let stopWorker: () => Promise<void>;

before(async () => {
  env = await createTestEnv();
  server = await StandInModelServer.start();
  pool = everythingPool();
  blobDir = mkdtempSync(path.join(tmpdir(), 'agent-blobs-'));
  taskQueue = `agent-long-${randomUUID()}`;
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal: testTemporalConfig(env, taskQueue),
    config: { ...loadOrchestratorWorkerConfig(standInEnv(server)), blobStoreDir: blobDir, shutdownGraceTimeMs: 5_000 },
    workflowBundle: await bundleWorkflowsOnce(),
    mcpPool: pool,
  });
  stopWorker = runInProcess(worker);
});

after(async () => {
  await stopWorker?.();
  await pool?.close();
  await server?.close();
  await env?.teardown();
  if (blobDir) rmSync(blobDir, { recursive: true, force: true });
});

beforeEach(() => {
  server.exchanges.length = 0;
});

function start(spec: Spec, options?: RunOptions): Promise<Handle> {
  return env.client.workflow.start<(i: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
    taskQueue,
    workflowId: `${spec.name}-${randomUUID()}`,
    args: [{ spec, inputs: {}, ...(options && { options }) }],
  });
}

const agent = (extra: Partial<AgentStep>): AgentStep => ({
  id: 'helper',
  kind: 'agent',
  model: 'default',
  prompt: 'Keep going until you are told you are done.',
  heartbeatTimeout: '5s',
  retry: { maxAttempts: 3, initialInterval: '100ms' },
  ...extra,
});

const EventType = temporal.api.enums.v1.EventType;

/** Bytes of every input of the activities of `type` the execution scheduled. */
async function activityInputBytes(sizes: ExecutionSize[], type: string): Promise<number[]> {
  const out: number[] = [];
  for (const s of sizes) {
    const history = await env.client.workflow.getHandle(s.workflowId, s.runId).fetchHistory();
    for (const e of history.events ?? []) {
      const a = e.activityTaskScheduledEventAttributes;
      if (e.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED || a?.activityType?.name !== type) continue;
      out.push(a.input ? temporal.api.common.v1.Payloads.encode(a.input).finish().length : 0);
    }
  }
  return out;
}

async function replayEach(sizes: ExecutionSize[]): Promise<void> {
  const bundle = await bundleWorkflowsOnce();
  for (const s of sizes) {
    const history = await env.client.workflow.getHandle(s.workflowId, s.runId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: bundle }, history, s.workflowId);
  }
}

describe('a long agent loop', () => {
  test('200 turns: every execution stays under 10,000 events and 10 MB; no turn carries the conversation', async () => {
    const TOOL_TURNS = 199;
    const filler = 'x'.repeat(1000);
    server.script = (e) =>
      e.toolResults.length < TOOL_TURNS
        ? { toolCalls: [{ name: 'everything__echo', arguments: { message: `turn ${e.index + 1} ${filler}` } }] }
        : { text: `done after ${e.toolResults.length} tool results` };
    const spec: Spec = {
      name: 'agent-200-turns',
      steps: [agent({ tools: ['everything.echo'], maxIterations: 200 })],
    };
    const handle = await start(spec);
    const result = await handle.result();

    assert.deepEqual(result.output, {
      helper: { answer: `done after ${TOOL_TURNS} tool results`, iterations: 200, toolCalls: TOOL_TURNS },
    });
    // The model saw the whole conversation every turn: the last request carried every result.
    const last = server.exchanges.at(-1);
    assert.equal(server.exchanges.length, 200);
    assert.equal(last?.toolResults.length, TOOL_TURNS);
    assert.ok(last?.toolResults.every((r, i) => r.content === `Echo: turn ${i + 1} ${filler}`));
    assert.equal(result.usage.total.calls, 200, 'the parent charged every turn the child ran');
    assert.equal(result.steps.helper?.usage?.calls, 200);
    const progress = result.steps.helper?.progress as AgentProgress;
    assert.equal(progress.iteration, 200);
    assert.equal(progress.turns.length + (progress.earlierTurns ?? 0), 200);
    assert.match(progress.agentWorkflowId ?? '', /\.helper\.agent$/);

    const sizes = await measureExecutions(env.client, handle.workflowId, handle.firstExecutionRunId);
    const kindOf = (s: ExecutionSize) => (s.workflowId === handle.workflowId ? 'parent run' : 'agent loop runs');
    console.log(describeSizes('a 200-turn agent loop (a child that continues as new every 50 turns):', sizes, kindOf));
    const problems = sizes.flatMap((s) => s.taskProblems.map((p) => `${s.workflowId}: ${p}`));
    assert.deepEqual(problems, [], 'no workflow task failed or timed out');
    for (const s of sizes) {
      assert.ok(s.events < MAX_EVENTS, `${s.workflowId} (${s.runId}): ${s.events} events`);
      assert.ok(s.bytes < MAX_BYTES, `${s.workflowId} (${s.runId}): ${s.bytes} bytes`);
    }
    const loops = sizes.filter((s) => s.workflowId !== handle.workflowId);
    assert.ok(loops.length >= 4, `the loop continued as new (${loops.length} executions)`);
    const turns = loops.reduce((n, s) => n + (s.activities.llmChatTurn ?? 0), 0);
    assert.equal(turns, 200, 'each turn one llmChatTurn activity');
    assert.equal(sizes.find((s) => s.workflowId === handle.workflowId)?.activities.llmChatTurn ?? 0, 0);

    // By reference: the last turn's input is no bigger than an early one's, though the
    // conversation it names holds 199 results of over 1,000 characters each.
    const inputs = await activityInputBytes(loops, 'llmChatTurn');
    const toolInputs = await activityInputBytes(loops, 'agentCallTool');
    console.log(
      `  llmChatTurn inputs: first ${inputs[0]} B, last ${inputs.at(-1)} B, largest ${Math.max(...inputs)} B; ` +
        `agentCallTool inputs: largest ${Math.max(...toolInputs)} B`,
    );
    assert.ok(Math.max(...inputs.slice(1)) < 4 * KiB, 'no later turn carries the conversation');
    assert.ok((inputs.at(-1) ?? 0) <= (inputs[1] ?? 0) + 64, 'turn inputs do not grow');
    await replayEach(sizes);
  });

  test('in its own workflow, a loop asks its run for approvals and budget: same approval ids, one ledger', async () => {
    const usage = { input: 30, output: 10 };
    server.script = (e) =>
      e.toolResults.length === 0
        ? {
            toolCalls: [
              { name: 'everything__echo', arguments: { message: 'free' } },
              { name: 'everything__get-sum', arguments: { a: 1, b: 1 } },
            ],
            usage,
          }
        : { text: e.toolResults.map((r) => r.content).join(' | '), usage };
    const spec: Spec = {
      name: 'agent-child-relay',
      steps: [
        agent({
          tools: ['everything.echo', 'everything.get-sum'],
          requireApproval: ['everything.get-sum'],
          approvers: ['ops'],
          maxIterations: 3,
        }),
      ],
    };
    // Every agent runs in a child; the run may spend 30 tokens before a human must raise it.
    const handle = await start(spec, { maxInlineAgentTurns: 1, budget: { tokens: 30 } });

    const waiting = await waitFor('the tool call to wait in the parent run', async () => {
      const p = await handle.query(progressQuery);
      return p.pendingApprovals.length ? p : undefined;
    });
    assert.equal(waiting.pendingApprovals[0]?.stepId, 'helper.turn1.call2');
    assert.deepEqual(waiting.pendingApprovals[0]?.approvers, ['ops']);
    const shown = waiting.steps.helper?.progress as AgentProgress;
    assert.equal(shown.agentWorkflowId, `${handle.workflowId}.helper.agent`);
    assert.equal(shown.turns[0]?.toolCalls[1]?.status, 'waiting_approval');
    await handle.executeUpdate(approveUpdate, {
      args: [{ stepId: 'helper.turn1.call2', decision: 'approve', by: 'ops' }],
    });

    // Turn 1 spent 40 tokens of the 30 allowed: the loop asks before turn 2, the run asks a human.
    const budget = await waitFor('the budget approval in the parent run', async () => {
      const p = await handle.query(progressQuery);
      return p.pendingApprovals.find((a) => a.stepId !== 'helper.turn1.call2');
    });
    assert.equal(budget.stepId, '~budget');
    assert.match(budget.prompt ?? '', /Run budget reached: spent 40 tokens/);
    assert.equal(server.exchanges.length, 1, 'no model call past the budget before the decision');
    await handle.executeUpdate(approveUpdate, { args: [{ stepId: '~budget', decision: 'approve', by: 'ops' }] });

    const result = await handle.result();
    assert.deepEqual(result.output, {
      helper: { answer: 'Echo: free | The sum of 1 and 1 is 2.', iterations: 2, toolCalls: 2 },
    });
    assert.equal(result.usage.total.totalTokens, 80, 'both turns charged to the run');
    assert.equal(result.steps.helper?.usage?.calls, 2);
    assert.deepEqual(result.usage.budgets[0]?.limit, { tokens: 60 });

    const sizes = await measureExecutions(env.client, handle.workflowId, handle.firstExecutionRunId);
    assert.ok(sizes.some((s) => s.workflowId === `${handle.workflowId}.helper.agent`));
    const child = await env.client.workflow.getHandle(`${handle.workflowId}.helper.agent`).describe();
    assert.equal(child.type, AGENT_LOOP_WORKFLOW);
    await replayEach(sizes);
  });

  test('a budget stopped by a human fails the step as the inline loop would, and charges what the loop spent', async () => {
    server.script = (e) =>
      e.toolResults.length === 0
        ? { toolCalls: [{ name: 'everything__echo', arguments: { message: 'one' } }], usage: { input: 30, output: 10 } }
        : { text: 'never reached' };
    const spec: Spec = {
      name: 'agent-child-stopped',
      steps: [agent({ tools: ['everything.echo'], maxIterations: 3 })],
    };
    const handle = await start(spec, { maxInlineAgentTurns: 1, budget: { tokens: 30 } });
    await waitFor(
      'the budget approval',
      async () => (await handle.query(progressQuery)).pendingApprovals.some((a) => a.stepId === '~budget') || undefined,
    );
    await handle.executeUpdate(approveUpdate, {
      args: [{ stepId: '~budget', decision: 'reject', by: 'ops', comment: 'enough' }],
    });
    await assert.rejects(handle.result(), (err: Error & { cause?: Error & { cause?: Error } }) => {
      assert.match(
        String(err.cause?.message),
        /step "helper" failed: run budget of 30 tokens reached .*stopped by ops: enough/,
      );
      return true;
    });
    const progress = await handle.query(progressQuery);
    assert.equal(progress.usage.total.totalTokens, 40, 'the turn the loop ran is charged');
    assert.equal(server.exchanges.length, 1);
  });
});
