/**
 * `llm` steps on a real Temporal dev server. The model is a stand-in for a hosted one: a local
 * HTTP server speaking the real OpenAI and Anthropic wire formats (test/fixtures/llm), scripted
 * per test and counting what it receives.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { approveUpdate, COST_USD_ATTRIBUTE, progressQuery, TOKENS_ATTRIBUTE } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { waitFor } from '../helpers/journal';
import { createTestEnv } from '../helpers/temporal';
import { startLlmWorker, type LlmWorker } from '../fixtures/llm/harness';
import { inOrder, StandInModelServer } from '../fixtures/llm/model-server';
import { failureChain } from '../helpers/failures';
import { RUN_BUDGET_APPROVAL } from '../../workflows/llm/ledger';

let env: TestWorkflowEnvironment;
let server: StandInModelServer;
let llm: LlmWorker;

before(async () => {
  env = await createTestEnv();
  server = await StandInModelServer.start();
  llm = await startLlmWorker(env, server, { keys: ['key-a', 'key-b'] });
});
after(async () => {
  await llm?.stop();
  await server?.close();
  await env?.teardown();
});
beforeEach(() => {
  server.exchanges.length = 0;
});

const fastRetry = { maxAttempts: 4, initialInterval: '100ms', maxInterval: '5s' };

describe('llm steps', () => {
  test('text and structured output; usage per step, summed per run, in progress, memo and search attributes', async () => {
    server.script = (e) =>
      e.structured
        ? { json: { verdict: 'ship', confidence: 0.9 }, usage: { input: 200, output: 20 } }
        : { text: `You said: ${e.userTexts[0]}`, usage: { input: 100, output: 50 } };
    const spec: Spec = {
      name: 'llm-basic',
      inputs: { topic: { type: 'string' } },
      steps: [
        {
          id: 'draft',
          kind: 'llm',
          model: 'default',
          system: 'Be brief.',
          prompt: 'Write about ${inputs.topic}',
          retry: fastRetry,
        },
        {
          id: 'judge',
          kind: 'llm',
          model: 'claude',
          prompt: 'Judge: ${steps.draft.output}',
          schema: {
            type: 'object',
            properties: { verdict: { enum: ['ship', 'hold'] }, confidence: { type: 'number' } },
            required: ['verdict', 'confidence'],
          },
          retry: fastRetry,
        },
      ],
    };
    const handle = await llm.start(spec, { topic: 'durability' });
    const result = await handle.result();
    assert.deepEqual(result.output, {
      draft: 'You said: Write about durability',
      judge: { verdict: 'ship', confidence: 0.9 },
    });
    assert.equal(server.exchanges[0]?.system, 'Be brief.');
    assert.deepEqual(
      server.exchanges.map((e) => e.api),
      ['openai', 'anthropic'],
    );

    // Prices in the stand-in config: $1 per million input tokens, $2 per million output tokens.
    const draftCost = (100 * 1 + 50 * 2) / 1e6;
    const judgeCost = (200 * 1 + 20 * 2) / 1e6;
    assert.deepEqual(result.steps.draft?.usage, {
      inputTokens: 100,
      outputTokens: 50,
      costUsd: draftCost,
      calls: 1,
      totalTokens: 150,
    });
    assert.equal(result.steps.judge?.usage?.totalTokens, 220);
    assert.equal(result.usage.total.totalTokens, 370);
    assert.equal(result.usage.total.costUsd, Math.round((draftCost + judgeCost) * 1e9) / 1e9);
    assert.equal(result.usage.total.calls, 2);

    const progress = await handle.query(progressQuery);
    assert.equal(progress.usage.total.totalTokens, 370);
    const description = await handle.describe();
    assert.deepEqual((description.memo?.usage as { totalTokens: number }).totalTokens, 370);
    assert.equal(description.typedSearchAttributes.get(TOKENS_ATTRIBUTE), 370);
    assert.equal(description.typedSearchAttributes.get(COST_USD_ATTRIBUTE), result.usage.total.costUsd);
  });

  test('every key rate limited: Temporal retries after the retry-after, then the call goes through', async () => {
    let limited = 2;
    server.script = () => (limited-- > 0 ? { status: 429, retryAfterSeconds: 1 } : { text: 'finally' });
    const spec: Spec = {
      name: 'llm-429',
      steps: [{ id: 'ask', kind: 'llm', model: 'default', prompt: 'hi', retry: fastRetry }],
    };
    const handle = await llm.start(spec);
    const result = await handle.result();
    assert.equal(result.output && (result.output as { ask: string }).ask, 'finally');
    assert.deepEqual(
      server.exchanges.map((e) => e.apiKey),
      ['key-a', 'key-b', 'key-a'],
    );
    const gap = (server.exchanges[2]?.startedAt ?? 0) - (server.exchanges[1]?.startedAt ?? 0);
    assert.ok(
      gap >= 900,
      `the second attempt waited for the retry-after (1 s), not the 100 ms retry interval: ${gap} ms`,
    );
    const history = await handle.fetchHistory();
    const failedAttempts = (history.events ?? []).filter(
      (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
    );
    assert.equal(failedAttempts[0]?.activityTaskStartedEventAttributes?.attempt, 2, 'one retried activity, attempt 2');
  });

  test('a 500 is retried by Temporal; a 401 fails the step at once with LlmAuthError', async () => {
    server.script = inOrder({ status: 500 }, { text: 'recovered' });
    const ok = await (
      await llm.start({
        name: 'llm-500',
        steps: [{ id: 'ask', kind: 'llm', model: 'default', prompt: 'hi', retry: fastRetry }],
      })
    ).result();
    assert.deepEqual(ok.output, { ask: 'recovered' });
    assert.equal(server.exchanges.length, 2);

    server.exchanges.length = 0;
    server.script = () => ({ status: 401, message: 'invalid x-api-key' });
    const handle = await llm.start({
      name: 'llm-401',
      steps: [{ id: 'ask', kind: 'llm', model: 'default', prompt: 'hi', retry: fastRetry }],
    });
    await assert.rejects(handle.result(), (err) => {
      assert.match(failureChain(err), /LlmAuthError: standin\/stand-in-gpt \(key #1 of STANDIN_API_KEYS\): HTTP 401/);
      return true;
    });
    assert.equal(server.exchanges.length, 1, 'not retried');
  });

  test('a run budget pauses on an approval; approve raises it, reject stops the run', async () => {
    server.script = () => ({ text: 'ok', usage: { input: 60, output: 40 } });
    const step = (id: string) => ({ id, kind: 'llm' as const, model: 'default', prompt: id, retry: fastRetry });
    const spec: Spec = { name: 'llm-budget', steps: [step('one'), step('two'), step('three'), step('four')] };
    const handle = await llm.start(spec, {}, { budget: { tokens: 150 } });

    const first = await waitFor('the budget approval', async () => {
      const p = await handle.query(progressQuery);
      return p.pendingApprovals.find((a) => a.stepId === RUN_BUDGET_APPROVAL) ? p : undefined;
    });
    assert.equal(server.exchanges.length, 2, 'no call is made past the budget');
    assert.equal(first.phase, 'waiting_approval');
    assert.match(
      first.pendingApprovals[0]?.prompt ?? '',
      /Run budget reached: spent 200 tokens .* of 150 tokens\. Approve to raise it to 300 tokens/,
    );
    assert.equal(first.steps.three?.status, 'waiting');
    await handle.executeUpdate(approveUpdate, {
      args: [{ stepId: RUN_BUDGET_APPROVAL, decision: 'approve', by: 'finance' }],
    });

    await waitFor('the second budget approval', async () => {
      const p = await handle.query(progressQuery);
      return p.pendingApprovals.length && server.exchanges.length === 3 ? p : undefined;
    });
    await handle.executeUpdate(approveUpdate, {
      args: [{ stepId: RUN_BUDGET_APPROVAL, decision: 'reject', by: 'finance', comment: 'enough' }],
    });
    await assert.rejects(handle.result(), (err) => {
      assert.match(
        failureChain(err),
        /BudgetExceeded: run budget of 300 tokens reached \(spent 300 tokens, \$0.00042\); stopped by finance: enough/,
      );
      return true;
    });
    assert.equal(server.exchanges.length, 3);
  });

  test('cancelling the run aborts the model request in flight', async () => {
    server.script = () => ({ hang: true });
    const handle = await llm.start({
      name: 'llm-cancel',
      steps: [{ id: 'slow', kind: 'llm', model: 'default', prompt: 'think long', heartbeatTimeout: '1s' }],
    });
    await waitFor('the request to reach the stand-in', () => server.exchanges.length === 1 || undefined);
    await handle.cancel();
    await assert.rejects(handle.result());
    await waitFor('the stand-in to see the request aborted', () => server.exchanges[0]?.aborted || undefined, 10_000);
    const progress = await handle.query(progressQuery);
    assert.equal(progress.steps.slow?.status, 'cancelled');
  });

  test('a step budget covers that step only', async () => {
    server.script = () => ({ text: 'ok', usage: { input: 10, output: 10 } });
    const spec: Spec = {
      name: 'llm-step-budget',
      steps: [
        { id: 'cheap', kind: 'llm', model: 'default', prompt: 'a', budget: { usd: 0.00001 }, retry: fastRetry },
        { id: 'other', kind: 'llm', model: 'default', prompt: 'b', retry: fastRetry },
      ],
    };
    const result = await (await llm.start(spec)).result();
    assert.equal(result.steps.other?.status, 'completed');
    assert.deepEqual(result.usage.budgets, [
      {
        scope: 'cheap',
        limit: { usd: 0.00001 },
        spent: { inputTokens: 10, outputTokens: 10, costUsd: 0.00003, calls: 1, totalTokens: 20 },
      },
    ]);
  });
});
