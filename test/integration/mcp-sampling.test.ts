/**
 * An MCP server that samples during a tool call (test/fixtures/mcp/asking-server.ts `summarize`,
 * over stdio) on a real Temporal dev server: the run's configured model answers through the LLM
 * activity — the model is the stand-in of test/fixtures/llm (a local HTTP server speaking the
 * OpenAI wire format, since a hosted model cannot be reached offline) — and the call is charged to
 * the step, the run's ledger and its budget. With `approve`, a person approves first.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import type { runSpec } from '../../workflows/interpreter';
import { approveUpdate, progressQuery, RUN_SPEC_WORKFLOW, type RunOptions } from '../../workflows/contracts/run';
import type { Spec, Step } from '../../workflows/contracts/spec';
import { RUN_BUDGET_APPROVAL } from '../../workflows/llm/ledger';
import { standInEnv } from '../fixtures/llm/harness';
import { StandInModelServer } from '../fixtures/llm/model-server';
import { askingServer, startMcpWorker, tempDir, writeJson, type McpWorker } from '../fixtures/mcp/harness';
import { failureChain } from '../helpers/failures';
import { waitFor } from '../helpers/journal';
import { createTestEnv } from '../helpers/temporal';
import { testDataEnv } from '../helpers/worker';

let env: TestWorkflowEnvironment;
let model: StandInModelServer;
let mcp: McpWorker;

before(async () => {
  const dir = tempDir('mcp-sampling-');
  writeJson(path.join(dir, '.mcp.json'), {
    mcpServers: {
      sampler: askingServer({ sampling: { allowed: true, model: 'default', maxTokens: 100 } }),
      careful: askingServer({ sampling: { allowed: true, approve: true, approvers: ['user:ana'], timeout: '1h' } }),
      mute: askingServer({}),
    },
  });
  env = await createTestEnv();
  model = await StandInModelServer.start();
  const config = loadOrchestratorWorkerConfig({ ...testDataEnv(), ...standInEnv(model), MCP_CONFIG: dir });
  mcp = await startMcpWorker(env, { config });
});

after(async () => {
  await mcp?.stop();
  await model?.close();
  await env?.teardown();
});

beforeEach(() => {
  model.exchanges.length = 0;
  model.script = () => ({ text: 'It is short.', usage: { input: 40, output: 10 } });
});

const summarize = (id: string, server: string): Step => ({
  id,
  kind: 'tool',
  tool: `${server}.summarize`,
  args: { text: `a long text for ${id}` },
  startToCloseTimeout: '2m',
  retry: { maxAttempts: 1 },
});

const start = (spec: Spec, options?: RunOptions) =>
  env.client.workflow.start<typeof runSpec>(RUN_SPEC_WORKFLOW, {
    taskQueue: mcp.taskQueue,
    workflowId: `${spec.name}-${randomUUID()}`,
    args: [{ spec, ...(options && { options }) }],
  });

/** Stand-in prices: $1 per million input tokens, $2 per million output tokens. */
const cost = (input: number, output: number) => (input + output * 2) / 1e6;

test("the run's model answers the server, charged to the step and the run", async () => {
  const handle = await start({ name: 'mcp-sampling', steps: [summarize('sum', 'sampler')] });
  const result = await handle.result();
  const output = result.steps.sum?.output as { text: string; structured: Record<string, unknown> };
  assert.deepEqual(output.structured, { model: 'default', stopReason: 'endTurn', text: 'It is short.' });

  assert.equal(model.exchanges.length, 1);
  const [exchange] = model.exchanges;
  assert.equal(exchange?.system, 'Summarize in one line.');
  assert.deepEqual(exchange?.userTexts, ['a long text for sum']);
  assert.equal(exchange?.body.max_tokens ?? exchange?.body.max_completion_tokens, 100, "the config's cap");

  assert.equal(result.steps.sum?.usage?.totalTokens, 50);
  assert.equal(result.usage.total.totalTokens, 50);
  assert.equal(result.usage.total.calls, 1);
  assert.equal(result.usage.total.costUsd, cost(40, 10));
});

test("sampling passes the run's budget gate: past the budget it waits on a person", async () => {
  const spec: Spec = { name: 'mcp-sampling-budget', steps: [summarize('one', 'sampler'), summarize('two', 'sampler')] };
  const handle = await start(spec, { budget: { tokens: 30 } });
  const pending = await waitFor('the budget approval', async () =>
    (await handle.query(progressQuery)).pendingApprovals.find((a) => a.stepId === RUN_BUDGET_APPROVAL),
  );
  assert.match(pending.prompt ?? '', /Run budget reached: spent 50 tokens/);
  assert.equal(model.exchanges.length, 1, 'the second request waits at the gate');
  await handle.executeUpdate(approveUpdate, {
    args: [{ stepId: RUN_BUDGET_APPROVAL, decision: 'reject', by: 'finance' }],
  });
  await assert.rejects(handle.result(), (err) => {
    assert.match(failureChain(err), /two.*client refused: .*budget of 30 tokens reached/s);
    return true;
  });
  assert.equal(model.exchanges.length, 1, 'the model was not asked again');
});

test('with approve, a person approves the request before the model sees it', async () => {
  const handle = await start({ name: 'mcp-sampling-approve', steps: [summarize('sum', 'careful')] });
  const pending = await waitFor('the sampling approval', async () =>
    (await handle.query(progressQuery)).pendingApprovals.find((a) => a.stepId === 'sum~sampling-1'),
  );
  assert.equal(pending.server, 'careful');
  assert.deepEqual(pending.approvers, ['user:ana']);
  assert.match(
    pending.prompt ?? '',
    /"careful" asks the model "default".*\nsystem: Summarize in one line\.\nuser: a long text for sum/s,
  );
  assert.equal(model.exchanges.length, 0, 'nothing was sent before the approval');
  await handle.executeUpdate(approveUpdate, { args: [{ stepId: 'sum~sampling-1', decision: 'approve', by: 'ana' }] });
  const result = await handle.result();
  assert.equal((result.steps.sum?.output as { text: string }).text, 'It is short.');
  assert.equal(model.exchanges.length, 1);
  assert.equal(result.usage.total.totalTokens, 50);
});

test('a rejected request never reaches the model; the server learns it was rejected', async () => {
  const handle = await start({ name: 'mcp-sampling-reject', steps: [summarize('sum', 'careful')] });
  await waitFor('the sampling approval', async () =>
    (await handle.query(progressQuery)).pendingApprovals.find((a) => a.stepId === 'sum~sampling-1'),
  );
  await handle.executeUpdate(approveUpdate, { args: [{ stepId: 'sum~sampling-1', decision: 'reject', by: 'ana' }] });
  await assert.rejects(handle.result(), (err) => {
    assert.match(failureChain(err), /client refused: .*not sent: ana rejected it/);
    return true;
  });
  assert.equal(model.exchanges.length, 0);
});

test('a server not allowed to sample is answered "method not found" (no sampling capability)', async () => {
  const handle = await start({ name: 'mcp-sampling-mute', steps: [summarize('sum', 'mute')] });
  await assert.rejects(handle.result(), (err) => {
    assert.match(failureChain(err), /client refused: MCP error -32601: Method not found/);
    return true;
  });
  assert.equal(model.exchanges.length, 0);
});

test("an agent step's tool call may sample too: the agent's run answers it, charged to the agent step", async () => {
  model.script = (e) => {
    if (e.system === 'Summarize in one line.') return { text: 'Short.', usage: { input: 30, output: 5 } };
    if (e.toolResults.length === 0)
      return { toolCalls: [{ name: 'sampler__summarize', arguments: { text: 'what the agent read' } }] };
    return { text: `Done: ${e.toolResults.map((r) => r.content).join(' | ')}` };
  };
  const spec: Spec = {
    name: 'mcp-sampling-agent',
    steps: [
      {
        id: 'helper',
        kind: 'agent',
        model: 'default',
        prompt: 'Summarize it.',
        tools: ['sampler.summarize'],
        maxIterations: 3,
      },
    ],
  };
  const result = await (await start(spec)).result();
  const output = result.steps.helper?.output as { answer: string; toolCalls: number };
  assert.match(output.answer, /Done: .*Short\./);
  assert.equal(output.toolCalls, 1);
  const sampled = model.exchanges.filter((e) => e.system === 'Summarize in one line.');
  assert.deepEqual(
    sampled.map((e) => e.userTexts),
    [['what the agent read']],
    'the server asked once, through the run',
  );
  assert.equal(model.exchanges.length, 3, 'two agent turns and the sampling request');
  assert.ok((result.steps.helper?.usage?.totalTokens ?? 0) >= 35, 'the sampling tokens are charged to the agent step');
});
