/**
 * Budgets that do not leak, on a real Temporal dev server: a child run draws on its parent's
 * remaining budget and its spend (completed or failed) is charged back; tokens of failed and
 * retried model attempts are charged. The model is a stand-in for a hosted one: a local HTTP
 * server speaking the real OpenAI wire format (test/fixtures/llm), scripted per test.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { runSpec } from '../../workflows/interpreter';
import {
  approveUpdate,
  COST_USD_ATTRIBUTE,
  progressQuery,
  RUN_SPEC_WORKFLOW,
  TOKENS_ATTRIBUTE,
  type RunInput,
} from '../../workflows/contracts/run';
import type { Spec, Step } from '../../workflows/contracts/spec';
import { RUN_BUDGET_APPROVAL } from '../../workflows/llm/ledger';
import { startLlmWorker, type LlmWorker, type RunHandle } from '../fixtures/llm/harness';
import { inOrder, StandInModelServer } from '../fixtures/llm/model-server';
import { failureChain } from '../helpers/failures';
import { waitFor } from '../helpers/journal';
import { createTestEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let server: StandInModelServer;
let llm: LlmWorker;

before(async () => {
  env = await createTestEnv();
  server = await StandInModelServer.start();
  llm = await startLlmWorker(env, server);
});
after(async () => {
  await llm?.stop();
  await server?.close();
  await env?.teardown();
});
beforeEach(() => {
  server.exchanges.length = 0;
});

const fastRetry = { maxAttempts: 4, initialInterval: '100ms', maxInterval: '1s' };
const ask = (id: string, extra: Record<string, unknown> = {}): Step =>
  ({ id, kind: 'llm', model: 'default', prompt: id, retry: fastRetry, ...extra }) as Step;
/** Stand-in prices: $1 per million input tokens, $2 per million output tokens. */
const cost = (input: number, output: number) => (input * 1 + output * 2) / 1e6;

function startWithChild(parent: Spec, child: Spec, budget: RunInput['options']): Promise<RunHandle> {
  return env.client.workflow.start<typeof runSpec>(RUN_SPEC_WORKFLOW, {
    taskQueue: llm.taskQueue,
    workflowId: `${parent.name}-${randomUUID()}`,
    args: [{ spec: parent, childSpecs: { [child.name]: child }, options: budget }],
  });
}

describe('child runs', () => {
  test("a child's budget is what the parent has left, and its spend is charged to the parent", async () => {
    server.script = () => ({ text: 'ok', usage: { input: 100, output: 50 } });
    const leaf: Spec = { name: 'leaf', steps: [ask('a'), ask('b')] };
    const parent: Spec = {
      name: 'budget-parent',
      steps: [ask('first'), { id: 'sub', kind: 'child', spec: 'leaf' }],
    };
    const handle = await startWithChild(parent, leaf, { budget: { tokens: 1000, usd: 1 } });
    const result = await handle.result();

    const child = await env.client.workflow.getHandle<typeof runSpec>(`${handle.workflowId}.sub`).result();
    assert.deepEqual(
      child.usage.budgets.map((b) => [b.scope, b.limit]),
      [['run', { tokens: 850, usd: Math.round((1 - cost(100, 50)) * 1e9) / 1e9 }]],
      "the child's run budget is the parent's remaining 850 tokens and dollars",
    );
    assert.equal(child.usage.total.totalTokens, 300);

    assert.equal(result.steps.sub?.usage?.totalTokens, 300, 'the child step carries what the child spent');
    assert.equal(result.steps.sub?.usage?.calls, 2);
    assert.equal(result.usage.total.totalTokens, 450, 'the parent total includes the child');
    assert.equal(result.usage.total.costUsd, Math.round(cost(300, 150) * 1e9) / 1e9);
    assert.equal(result.usage.budgets[0]?.spent.totalTokens, 450);
    const description = await handle.describe();
    assert.equal((description.memo?.usage as { totalTokens: number }).totalTokens, 450);
    assert.equal(description.typedSearchAttributes.get(TOKENS_ATTRIBUTE), 450);
    assert.equal(description.typedSearchAttributes.get(COST_USD_ATTRIBUTE), result.usage.total.costUsd);
  });

  test('a child that uses up its share asks its own budget approval; rejected, its spend is still charged', async () => {
    server.script = () => ({ text: 'ok', usage: { input: 60, output: 40 } });
    const leaf: Spec = { name: 'leaf', steps: [ask('a'), ask('b'), ask('c'), ask('d')] };
    const parent: Spec = {
      name: 'budget-parent-exhausted',
      steps: [ask('first'), { id: 'sub', kind: 'child', spec: 'leaf' }, ask('never')],
    };
    // The parent spends 100 of 350 first, so the child is given 250 tokens.
    const handle = await startWithChild(parent, leaf, { budget: { tokens: 350 } });
    const child = env.client.workflow.getHandle<typeof runSpec>(`${handle.workflowId}.sub`);
    const pending = await waitFor('the child to ask for its budget', async () => {
      const p = await child.query(progressQuery).catch(() => undefined);
      return p?.pendingApprovals.find((a) => a.stepId === RUN_BUDGET_APPROVAL);
    });
    assert.match(pending.prompt ?? '', /Run budget reached: spent 300 tokens .* of 250 tokens/);
    assert.equal(server.exchanges.length, 4, 'the parent made one call, the child three, then it waited');
    await child.executeUpdate(approveUpdate, {
      args: [{ stepId: RUN_BUDGET_APPROVAL, decision: 'reject', by: 'finance', comment: 'no more' }],
    });

    await assert.rejects(handle.result(), (err) => {
      assert.match(failureChain(err), /BudgetExceeded: run budget of 250 tokens reached/);
      return true;
    });
    const progress = await handle.query(progressQuery);
    assert.equal(progress.steps.sub?.status, 'failed');
    assert.equal(progress.steps.sub?.usage?.totalTokens, 300, 'the failed child is charged to its step');
    assert.equal(progress.usage.total.totalTokens, 400);
    assert.equal(progress.steps.never, undefined);
    const description = await handle.describe();
    assert.equal((description.memo?.usage as { totalTokens: number }).totalTokens, 400);
    assert.equal(description.typedSearchAttributes.get(TOKENS_ATTRIBUTE), 400);
  });
});

describe('failed and retried model attempts', () => {
  const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
  const structured = (id: string, extra: Record<string, unknown> = {}) => ask(id, { schema, maxRepairs: 1, ...extra });

  test('an attempt that got a reply and then failed is charged when the retry succeeds', async () => {
    server.script = inOrder(
      { text: 'not json', usage: { input: 100, output: 10 } },
      { status: 500 }, // the repair request fails: the attempt is retried
      { json: { ok: true }, usage: { input: 200, output: 20 } },
    );
    const result = await (await llm.start({ name: 'retried-spend', steps: [structured('judge')] })).result();
    assert.deepEqual(result.output, { judge: { ok: true } });
    assert.equal(server.exchanges.length, 3);
    assert.deepEqual(result.steps.judge?.usage, {
      inputTokens: 300,
      outputTokens: 30,
      costUsd: cost(300, 30),
      calls: 2,
      totalTokens: 330,
    });
    assert.equal(result.usage.total.totalTokens, 330);
  });

  test('a call that fails for good after a retried attempt is charged for every attempt', async () => {
    server.script = inOrder(
      { text: 'not json', usage: { input: 100, output: 10 } },
      { status: 500 },
      { text: 'still not json', usage: { input: 100, output: 10 } },
      { text: 'never json', usage: { input: 100, output: 10 } },
    );
    const handle = await llm.start({ name: 'failed-spend', steps: [structured('judge')] });
    await assert.rejects(handle.result(), (err) => {
      assert.match(failureChain(err), /LlmInvalidOutput/);
      return true;
    });
    assert.equal(server.exchanges.length, 4);
    const progress = await handle.query(progressQuery);
    assert.equal(progress.steps.judge?.usage?.totalTokens, 330);
    assert.equal(progress.steps.judge?.usage?.calls, 3);
    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(TOKENS_ATTRIBUTE), 330);
  });

  // Whichever gives up first — the provider request (LlmConnectionError, carrying the spend) or
  // Temporal's start-to-close timeout (the spend read from the last heartbeat) — the reply is charged.
  test('a call that times out after a reply is charged', async () => {
    server.script = inOrder({ text: 'not json', usage: { input: 100, output: 10 } }, { hang: true });
    const handle = await llm.start({
      name: 'timed-out-spend',
      steps: [structured('judge', { timeout: '3s', heartbeatTimeout: '1s', retry: { maxAttempts: 1 } })],
    });
    await assert.rejects(handle.result(), (err) => {
      assert.match(failureChain(err), /timed out|timeout/i);
      return true;
    });
    const progress = await handle.query(progressQuery);
    assert.equal(progress.steps.judge?.usage?.totalTokens, 110);
    assert.equal(progress.usage.total.totalTokens, 110);
  });
});

describe('model calls outside the ledger', () => {
  test('an activity step cannot call llmChat: the run is refused before any request', async () => {
    server.script = () => ({ text: 'free tokens', usage: { input: 500, output: 500 } });
    const handle = await llm.start(
      {
        name: 'llm-bypass',
        steps: [
          {
            id: 'sneak',
            kind: 'activity',
            activity: 'llmChat',
            args: { model: 'default', messages: [{ role: 'user', content: 'hi' }] },
          },
        ],
      },
      {},
      { budget: { tokens: 1 } },
    );
    await assert.rejects(handle.result(), (err) => {
      assert.match(failureChain(err), /InvalidSpec: .*steps\[0\]\.activity: "llmChat" is internal to the orchestrator/);
      return true;
    });
    assert.equal(server.exchanges.length, 0, 'the model was never called');
  });
});
