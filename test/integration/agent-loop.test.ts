/**
 * `agent` steps: the model is a stand-in for a hosted one (a local HTTP server speaking the real
 * OpenAI and Anthropic wire formats, scripted per test), the tools are real: the published MCP
 * server-everything over stdio, reached through the worker's MCP pool and activities.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { McpClientPool } from '../../activities/mcp/pool';
import type { AgentProgress } from '../../workflows/llm/agent-loop';
import type { AgentStep, Spec } from '../../workflows/contracts/spec';
import { approveUpdate, progressQuery } from '../../workflows/contracts/run';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { everythingPool, startLlmWorker, type LlmWorker, type RunHandle } from '../fixtures/llm/harness';
import { StandInModelServer, type Exchange } from '../fixtures/llm/model-server';
import { failureChain } from '../helpers/failures';

const EventType = temporal.api.enums.v1.EventType;
let env: TestWorkflowEnvironment;
let server: StandInModelServer;
let pool: McpClientPool;
let llm: LlmWorker;

before(async () => {
  env = await createTestEnv();
  server = await StandInModelServer.start();
  pool = everythingPool();
  llm = await startLlmWorker(env, server, { mcpPool: pool });
});
after(async () => {
  await llm?.stop();
  await pool?.close();
  await server?.close();
  await env?.teardown();
});
beforeEach(() => {
  server.exchanges.length = 0;
});

const agent = (extra: Partial<AgentStep>): AgentStep => ({
  id: 'helper',
  kind: 'agent',
  model: 'default',
  prompt: 'Help me.',
  heartbeatTimeout: '5s',
  retry: { maxAttempts: 3, initialInterval: '100ms' },
  ...extra,
});

/** Each tool call activity's (agentCallTool, mcpCallTool before) summary with its start and close times, from the run's history. */
async function toolActivities(handle: RunHandle): Promise<Array<{ summary: string; started: number; closed: number }>> {
  const events = (await handle.fetchHistory()).events ?? [];
  const ms = (e: (typeof events)[number]) =>
    Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
  const scheduled = new Map<string, { summary: string; type: string }>();
  const started = new Map<string, number>();
  const out: Array<{ summary: string; started: number; closed: number }> = [];
  for (const e of events) {
    const id = String(e.eventId);
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const summary = e.userMetadata?.summary?.data
        ? JSON.parse(Buffer.from(e.userMetadata.summary.data).toString())
        : '';
      scheduled.set(id, { summary, type: e.activityTaskScheduledEventAttributes?.activityType?.name ?? '' });
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      started.set(String(e.activityTaskStartedEventAttributes?.scheduledEventId), ms(e));
    } else if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const sid = String(e.activityTaskCompletedEventAttributes?.scheduledEventId);
      const s = scheduled.get(sid);
      if (s?.type === 'agentCallTool' || s?.type === 'mcpCallTool')
        out.push({ summary: s.summary, started: started.get(sid) ?? 0, closed: ms(e) });
    }
  }
  return out;
}

describe('the agent loop with server-everything', () => {
  for (const model of ['default', 'claude']) {
    test(`${model}: LLM → tool calls → results → LLM; every turn in progress and history`, async () => {
      server.script = (e: Exchange) =>
        e.toolResults.length === 0
          ? {
              toolCalls: [
                { name: 'everything__echo', arguments: { message: 'durable' } },
                { name: 'everything__get-sum', arguments: { a: 2, b: 40 } },
                { name: 'everything__no-such-tool', arguments: {} },
              ],
            }
          : { text: `Done: ${e.toolResults.map((r) => r.content).join(' | ')}` };
      const spec: Spec = {
        name: 'agent-basic',
        steps: [agent({ model, tools: ['everything.echo', 'everything.get-sum'] })],
      };
      const handle = await llm.start(spec);
      const result = await handle.result();
      const output = (result.output as { helper: { answer: string; iterations: number; toolCalls: number } }).helper;
      assert.equal(output.iterations, 2);
      assert.equal(output.toolCalls, 3);
      assert.match(
        output.answer,
        /^Done: Echo: durable \| The sum of 2 and 40 is 42\.? \| Error: there is no tool "everything__no-such-tool"/,
      );
      assert.deepEqual(server.exchanges[0]?.tools, ['everything__echo', 'everything__get-sum']);

      const progress = result.steps.helper?.progress as AgentProgress;
      assert.equal(progress.turns.length, 2);
      assert.deepEqual(
        progress.turns[0]?.toolCalls.map((c) => [c.tool, c.status]),
        [
          ['everything.echo', 'completed'],
          ['everything.get-sum', 'completed'],
          ['everything__no-such-tool', 'failed'],
        ],
      );
      assert.equal(result.steps.helper?.usage?.calls, 2);
      const summaries = (await toolActivities(handle)).map((a) => a.summary).sort();
      assert.deepEqual(summaries, ['helper: turn 1 everything.echo', 'helper: turn 1 everything.get-sum']);
    });
  }

  test("one turn's independent tool calls run in parallel, as separate activities", async () => {
    const slow = { name: 'everything__trigger-long-running-operation', arguments: { duration: 1, steps: 2 } };
    server.script = (e) => (e.toolResults.length === 0 ? { toolCalls: [slow, slow, slow] } : { text: 'all done' });
    const spec: Spec = { name: 'agent-parallel', steps: [agent({ tools: ['everything.*'] })] };
    const handle = await llm.start(spec);
    await handle.result();
    const calls = await toolActivities(handle);
    assert.equal(calls.length, 3);
    const lastStart = Math.max(...calls.map((c) => c.started));
    const firstClose = Math.min(...calls.map((c) => c.closed));
    assert.ok(
      lastStart < firstClose,
      `all three were running at once (last started ${lastStart}, first closed ${firstClose})`,
    );
  });

  test('maxIterations: a clear failure at the limit, or one closing turn without tools', async () => {
    server.script = (e) =>
      e.body.tool_choice === 'none'
        ? { text: 'best effort answer' }
        : { toolCalls: [{ name: 'everything__echo', arguments: { message: 'again' } }] };
    const failing: Spec = { name: 'agent-limit', steps: [agent({ tools: ['everything.echo'], maxIterations: 3 })] };
    await assert.rejects((await llm.start(failing)).result(), (err) => {
      assert.match(
        failureChain(err),
        /AgentMaxIterations: agent "helper" reached maxIterations \(3\) without a final answer; it still wanted to call everything.echo/,
      );
      return true;
    });
    assert.equal(server.exchanges.length, 3);

    server.exchanges.length = 0;
    const closing: Spec = {
      name: 'agent-closing',
      steps: [agent({ tools: ['everything.echo'], maxIterations: 2, onMaxIterations: 'finalAnswer' })],
    };
    const result = await (await llm.start(closing)).result();
    assert.deepEqual(result.output, { helper: { answer: 'best effort answer', iterations: 3, toolCalls: 1 } });
    assert.equal(server.exchanges.length, 3);
    assert.match(server.exchanges[2]?.userTexts.at(-1) ?? '', /give your final answer/);
  });

  test('a tool that needs a human pauses on an approval; the other call of the turn runs meanwhile', async () => {
    server.script = (e) =>
      e.toolResults.length === 0
        ? {
            toolCalls: [
              { name: 'everything__echo', arguments: { message: 'free' } },
              { name: 'everything__get-sum', arguments: { a: 1, b: 1 } },
            ],
          }
        : { text: e.toolResults.map((r) => r.content).join(' | ') };
    const spec: Spec = {
      name: 'agent-approval',
      steps: [
        agent({
          tools: ['everything.echo', 'everything.get-sum'],
          requireApproval: ['everything.get-sum'],
          approvers: ['ops'],
        }),
      ],
    };

    const approved = await llm.start(spec);
    const waiting = await waitFor('the tool call to wait for approval', async () => {
      const p = await approved.query(progressQuery);
      return p.pendingApprovals.length ? p : undefined;
    });
    assert.equal(waiting.pendingApprovals[0]?.stepId, 'helper.turn1.call2');
    assert.match(
      waiting.pendingApprovals[0]?.prompt ?? '',
      /Agent helper wants to call everything.get-sum with \{"a":1,"b":1\}/,
    );
    assert.deepEqual(waiting.pendingApprovals[0]?.approvers, ['ops']);
    const calls = (waiting.steps.helper?.progress as AgentProgress).turns[0]?.toolCalls.map((c) => [c.tool, c.status]);
    await waitFor('echo to finish', async () => {
      const p = await approved.query(progressQuery);
      return (p.steps.helper?.progress as AgentProgress).turns[0]?.toolCalls[0]?.status === 'completed' || undefined;
    });
    assert.equal(calls?.[1]?.[1], 'waiting_approval');
    await approved.executeUpdate(approveUpdate, {
      args: [{ stepId: 'helper.turn1.call2', decision: 'approve', by: 'ops' }],
    });
    assert.deepEqual(await approved.result().then((r) => r.output), {
      helper: { answer: 'Echo: free | The sum of 1 and 1 is 2.', iterations: 2, toolCalls: 2 },
    });

    server.exchanges.length = 0;
    const rejected = await llm.start(spec);
    await waitFor('the second run to wait', async () =>
      (await rejected.query(progressQuery)).pendingApprovals.length ? true : undefined,
    );
    await rejected.executeUpdate(approveUpdate, {
      args: [{ stepId: 'helper.turn1.call2', decision: 'reject', by: 'ops', comment: 'not today' }],
    });
    const result = await rejected.result();
    assert.match(
      (result.output as { helper: { answer: string } }).helper.answer,
      /A human \(ops\) rejected this call: not today/,
    );
    const progress = result.steps.helper?.progress as AgentProgress;
    assert.equal(progress.turns[0]?.toolCalls[1]?.status, 'rejected');
    assert.equal(progress.turns[0]?.toolCalls[1]?.decidedBy, 'ops');
    await Worker.runReplayHistory(
      { workflowBundle: await bundleWorkflowsOnce() },
      await rejected.fetchHistory(),
      rejected.workflowId,
    );
  });
});
