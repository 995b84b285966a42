/**
 * The `llmChat` activity against a stand-in for a hosted model: a local HTTP server speaking the
 * real OpenAI chat-completions and Anthropic messages wire formats (test/fixtures/llm). The
 * official SDKs make real HTTP requests to it; no hosted model is reached.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createLlmActivities } from '../../activities/llm/activities';
import { loadLlmConfig } from '../../activities/llm/config/load';
import type { LlmRequest, LlmResponse } from '../../workflows/contracts/llm';
import { inOrder, StandInModelServer, standInModels } from '../fixtures/llm/model-server';

let server: StandInModelServer;
const noop = () => undefined;
/** Failures are what these tests expect; the SDK's warning for each would only hide the results. */
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

before(async () => {
  server = await StandInModelServer.start();
});
after(async () => {
  await server?.close();
});
beforeEach(() => {
  server.exchanges.length = 0;
  server.latencyMs = 0;
});

function activities(keys: string[], prices = { input: 1, output: 2 }) {
  const { config } = loadLlmConfig({
    LLM_MODELS_JSON: JSON.stringify(standInModels(server, { prices })),
    STANDIN_API_KEYS: keys.join(','),
  });
  return createLlmActivities({ config });
}

async function call(
  acts: ReturnType<typeof activities>,
  request: LlmRequest,
  info: { heartbeatDetails?: unknown } = {},
): Promise<LlmResponse> {
  const env = new MockActivityEnvironment(
    { heartbeatTimeoutMs: 2000, startToCloseTimeoutMs: 30_000, ...info },
    { logger: quiet },
  );
  return env.run(acts.llmChat, request);
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

const ask = (model = 'default', extra: Partial<LlmRequest> = {}): LlmRequest => ({
  model,
  messages: [{ role: 'user', content: 'hello' }],
  ...extra,
});

describe('wire formats', () => {
  for (const model of ['default', 'claude']) {
    test(`${model}: text, tool calls and usage come back provider-neutral`, async () => {
      server.script = inOrder(
        { text: 'plain answer', usage: { input: 10, output: 5 } },
        {
          toolCalls: [
            { name: 'everything__echo', arguments: { message: 'hi' } },
            { name: 'everything__get-sum', arguments: { a: 1, b: 2 } },
          ],
        },
      );
      const acts = activities(['k1']);
      const first = await call(acts, ask(model));
      assert.equal(first.text, 'plain answer');
      assert.equal(first.finishReason, 'stop');
      assert.deepEqual(first.usage, { inputTokens: 10, outputTokens: 5, costUsd: (10 * 1 + 5 * 2) / 1e6, calls: 1 });
      const second = await call(
        acts,
        ask(model, {
          tools: [
            { name: 'everything__echo', parameters: { type: 'object' } },
            { name: 'everything__get-sum', parameters: { type: 'object' } },
          ],
        }),
      );
      assert.equal(second.finishReason, 'tool_calls');
      assert.deepEqual(
        second.toolCalls.map((c) => [c.name, c.arguments]),
        [
          ['everything__echo', { message: 'hi' }],
          ['everything__get-sum', { a: 1, b: 2 }],
        ],
      );
      assert.deepEqual(
        server.exchanges.map((e) => e.api),
        model === 'default' ? ['openai', 'openai'] : ['anthropic', 'anthropic'],
      );
      assert.deepEqual(server.exchanges[1]?.tools, ['everything__echo', 'everything__get-sum']);
    });
  }

  test('malformed tool-call arguments reach the caller as an argumentsError, not a crash', async () => {
    server.script = inOrder({ toolCalls: [{ name: 't', arguments: '{"a": 1,' }] });
    const reply = await call(
      activities(['k1']),
      ask('default', { tools: [{ name: 't', parameters: { type: 'object' } }] }),
    );
    assert.equal(reply.toolCalls[0]?.arguments, null);
    assert.match(reply.toolCalls[0]?.argumentsError ?? '', /JSON/);
  });
});

describe('key rotation', () => {
  test('a 429 moves to the next key at once, and the ring remembers it for later calls', async () => {
    server.script = (e) =>
      e.apiKey === 'k1' ? { status: 429, retryAfterSeconds: 30 } : { text: `served by ${e.apiKey}` };
    const acts = activities(['k1', 'k2', 'k3']);
    const reply = await call(acts, ask());
    assert.equal(reply.text, 'served by k2');
    assert.equal(reply.keyIndex, 1);
    assert.deepEqual(
      server.exchanges.map((e) => e.apiKey),
      ['k1', 'k2'],
    );
    await call(acts, ask());
    assert.deepEqual(
      server.exchanges.map((e) => e.apiKey),
      ['k1', 'k2', 'k2'],
      'k1 is skipped while limited',
    );
  });

  test('every key limited: a retryable LlmRateLimited with the shortest retry-after as next retry delay', async () => {
    server.script = (e) => ({ status: 429, retryAfterSeconds: e.apiKey === 'k1' ? 7 : 3 });
    const failure = await failureOf(call(activities(['k1', 'k2']), ask('claude')));
    assert.equal(failure.type, 'LlmRateLimited');
    assert.equal(failure.nonRetryable, false);
    const delay = Number(failure.nextRetryDelay);
    assert.ok(delay > 2000 && delay <= 3000, `next retry delay ${delay} ms follows the shortest retry-after (3 s)`);
    assert.deepEqual(
      server.exchanges.map((e) => e.apiKey),
      ['k1', 'k2'],
    );
  });

  test("the next attempt starts from the previous attempt's key state (heartbeat details)", async () => {
    server.script = (e) => ({ text: `served by ${e.apiKey}` });
    const later = Date.now() + 60_000;
    const reply = await call(activities(['k1', 'k2']), ask(), {
      heartbeatDetails: { provider: 'standin', limitedUntil: [later, 0] },
    });
    assert.equal(reply.text, 'served by k2');
    assert.deepEqual(
      server.exchanges.map((e) => e.apiKey),
      ['k2'],
    );
  });
});

describe('retry classification', () => {
  const cases: Array<[string, Parameters<typeof inOrder>[0], string, boolean]> = [
    ['400', { status: 400 }, 'LlmBadRequest', true],
    ['401', { status: 401 }, 'LlmAuthError', true],
    ['403', { status: 403 }, 'LlmAuthError', true],
    ['404', { status: 404 }, 'LlmBadRequest', true],
    ['500', { status: 500 }, 'LlmServerError', false],
    ['503', { status: 503 }, 'LlmServerError', false],
    ['529 (Anthropic overloaded)', { status: 529 }, 'LlmServerError', false],
    ['malformed JSON body', { malformed: true }, 'LlmMalformedResponse', false],
  ];
  for (const [name, reply, type, nonRetryable] of cases) {
    for (const model of ['default', 'claude']) {
      test(`${name} via ${model} → ${type}${nonRetryable ? ' (non-retryable)' : ' (retryable)'}`, async () => {
        server.script = inOrder(reply);
        const failure = await failureOf(call(activities(['secret-key']), ask(model)));
        assert.equal(failure.type, type);
        assert.equal(failure.nonRetryable, nonRetryable);
        assert.doesNotMatch(failure.message, /secret-key/, 'a key never appears in a failure');
        assert.equal(server.exchanges.length, 1, 'the SDK does not retry by itself');
      });
    }
  }

  test('a closed port is a retryable LlmConnectionError', async () => {
    const dead = await StandInModelServer.start();
    const models = standInModels(dead);
    await dead.close();
    const { config } = loadLlmConfig({ LLM_MODELS_JSON: JSON.stringify(models), STANDIN_API_KEYS: 'k' });
    const failure = await failureOf(call(createLlmActivities({ config }), ask()));
    assert.equal(failure.type, 'LlmConnectionError');
    assert.equal(failure.nonRetryable, false);
  });

  test('an unknown model names the models the worker has', async () => {
    const failure = await failureOf(call(activities(['k']), ask('gpt-9')));
    assert.equal(failure.type, 'LlmUnknownModel');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /defines: default, claude/);
  });
});

describe('structured output', () => {
  const schema = {
    type: 'object',
    properties: { subQuestions: { type: 'array', items: { type: 'string' }, minItems: 2 } },
    required: ['subQuestions'],
    additionalProperties: false,
  };

  for (const model of ['default', 'claude']) {
    test(`${model}: an invalid reply is sent back with the errors and repaired`, async () => {
      server.script = inOrder(
        { text: 'Sure! Here are some questions.', usage: { input: 10, output: 10 } },
        { json: { subQuestions: ['only one'] }, usage: { input: 20, output: 10 } },
        { json: { subQuestions: ['a?', 'b?'] }, usage: { input: 30, output: 10 } },
      );
      const reply = await call(activities(['k']), ask(model, { schema: { schema }, maxRepairs: 2 }));
      assert.deepEqual(reply.object, { subQuestions: ['a?', 'b?'] });
      assert.equal(reply.repairs, 2);
      assert.deepEqual(reply.usage, { inputTokens: 60, outputTokens: 30, costUsd: (60 + 60) / 1e6, calls: 3 });
      const repairs = server.exchanges.slice(1).map((e) => e.userTexts.at(-1) ?? '');
      assert.match(repairs[0] ?? '', /not valid JSON/);
      assert.match(repairs[1] ?? '', /\/subQuestions must NOT have fewer than 2 items/);
    });
  }

  test('still invalid after the allowed repairs: non-retryable LlmInvalidOutput carrying the usage spent', async () => {
    server.script = () => ({ json: { wrong: true }, usage: { input: 5, output: 5 } });
    const failure = await failureOf(call(activities(['k']), ask('default', { schema: { schema }, maxRepairs: 1 })));
    assert.equal(failure.type, 'LlmInvalidOutput');
    assert.equal(failure.nonRetryable, true);
    assert.equal(server.exchanges.length, 2);
    const details = failure.details?.[0] as { usage: { calls: number; inputTokens: number } };
    assert.equal(details.usage.calls, 2);
    assert.equal(details.usage.inputTokens, 10);
  });
});

describe('spend across attempts', () => {
  const spent = { inputTokens: 100, outputTokens: 10, costUsd: 0.00012, calls: 1 };

  test("an attempt's answer includes what earlier attempts spent (heartbeat details)", async () => {
    server.script = inOrder({ text: 'ok', usage: { input: 20, output: 5 } });
    const reply = await call(activities(['k']), ask(), {
      heartbeatDetails: { provider: 'standin', limitedUntil: [0], spent },
    });
    assert.deepEqual(reply.usage, { inputTokens: 120, outputTokens: 15, costUsd: 0.00012 + 30 / 1e6, calls: 2 });
  });

  test('a retryable failure after a reply heartbeats and reports the spend, earlier attempts included', async () => {
    server.script = inOrder({ text: 'not json', usage: { input: 20, output: 5 } }, { status: 500 });
    const env = new MockActivityEnvironment(
      { heartbeatTimeoutMs: 2000, startToCloseTimeoutMs: 30_000, heartbeatDetails: { provider: 'standin', spent } },
      { logger: quiet },
    );
    const beats: Array<{ spent?: { calls: number } }> = [];
    env.on('heartbeat', (d: { spent?: { calls: number } }) => beats.push(d));
    const schema = { type: 'object', required: ['ok'] };
    const failure = await failureOf(env.run(activities(['k']).llmChat, ask('default', { schema: { schema } })));
    assert.equal(failure.type, 'LlmServerError');
    assert.equal(failure.nonRetryable, false);
    const expected = { inputTokens: 120, outputTokens: 15, costUsd: 0.00012 + 30 / 1e6, calls: 2 };
    assert.deepEqual((failure.details?.[0] as { usage: unknown }).usage, expected);
    assert.deepEqual(beats.at(-1)?.spent, expected, 'the next attempt (or a timeout) learns it from the heartbeat');
  });
});

describe('cancellation', () => {
  test('cancelling the activity aborts the HTTP request', async () => {
    server.script = () => ({ hang: true });
    const env = new MockActivityEnvironment(
      { heartbeatTimeoutMs: 2000, startToCloseTimeoutMs: 30_000 },
      { logger: quiet },
    );
    const running = env.run(activities(['k']).llmChat, ask());
    await new Promise((r) => setTimeout(r, 200));
    env.cancel();
    await assert.rejects(running);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.exchanges[0]?.aborted, true, 'the stand-in saw the client go away');
  });
});
