/** Provider limits in the models config, the route a model's calls take, and the build queue's start rate. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadLlmConfig } from '../../activities/llm/config/load';
import { createLlmRouteActivities, limitedProviders, providerTaskQueue } from '../../activities/llm/route';
import { ConfigError } from '../../config/config-errors';
import { loadBuildWorkerConfig } from '../../workers/build-config';

const EXAMPLE_BUILDS = path.resolve(__dirname, '../../examples/builds.json');

function models(limits: unknown, extra: Record<string, unknown> = {}) {
  return {
    LLM_MODELS_JSON: JSON.stringify({
      providers: {
        fast: { type: 'openai', baseUrl: 'http://127.0.0.1:1/v1', ...(limits !== undefined && { limits }) },
        free: { type: 'openai', baseUrl: 'http://127.0.0.1:2/v1' },
        ...extra,
      },
      models: { a: { provider: 'fast', model: 'm-a' }, b: { provider: 'free', model: 'm-b' } },
    }),
  };
}

function problemsOf(fn: () => unknown): Array<{ key: string; message: string }> {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('provider limits in the models config', () => {
  test('limits are read, numbers from ${VAR} text included', () => {
    const { config } = loadLlmConfig({
      ...models({ callsPerSecond: '${RATE}', concurrentPerWorker: 3 }),
      RATE: '2.5',
    });
    assert.deepEqual(config.providers.fast?.limits, { callsPerSecond: 2.5, concurrentPerWorker: 3 });
    assert.equal(config.providers.free?.limits, undefined);
  });

  for (const [limits, key, message] of [
    [{ callsPerSecond: 0 }, 'providers.fast.limits.callsPerSecond', 'greater than 0'],
    [{ callsPerSecond: 'fast' }, 'providers.fast.limits.callsPerSecond', 'number'],
    [{ concurrentPerWorker: 1.5 }, 'providers.fast.limits.concurrentPerWorker', 'whole number'],
    [{ concurrentPerWorker: -1 }, 'providers.fast.limits.concurrentPerWorker', ''],
    [{}, 'providers.fast.limits', 'callsPerSecond, concurrentPerWorker or both'],
    [{ callsPerMinute: 5 }, 'providers.fast.limits', 'callsPerMinute'],
  ] as const) {
    test(`${JSON.stringify(limits)} is refused, naming ${key}`, () => {
      const problems = problemsOf(() => loadLlmConfig(models(limits)));
      assert.ok(
        problems.some((p) => p.key === key && p.message.includes(message)),
        JSON.stringify(problems),
      );
    });
  }
});

describe('llmRouteFor', () => {
  test("a limited provider's models go to its queue; others, unknown models and disabled providers stay on the run's", async () => {
    const { config } = loadLlmConfig(
      models(
        { callsPerSecond: 2 },
        {
          off: { type: 'openai', apiKeyEnv: 'UNSET_KEYS', optional: true, limits: { callsPerSecond: 1 } },
        },
      ),
    );
    config.models.c = { name: 'c', provider: 'off', model: 'm-c', price: { inputPerMTok: 0, outputPerMTok: 0 } };
    assert.deepEqual(
      limitedProviders(config).map((p) => p.name),
      ['fast'],
    );
    const { llmRouteFor } = createLlmRouteActivities(config, 'orchestrator');
    assert.deepEqual(await llmRouteFor('a'), { taskQueue: 'orchestrator-llm-fast' });
    assert.equal(providerTaskQueue('orchestrator', 'fast'), 'orchestrator-llm-fast');
    assert.deepEqual(await llmRouteFor('b'), {});
    assert.deepEqual(await llmRouteFor('c'), {});
    assert.deepEqual(await llmRouteFor('nope'), {});
  });
});

describe('the build queue start rate', () => {
  test('BUILD_QUEUE_STARTS_PER_SECOND sets it; absent, the queue has none', () => {
    assert.equal(
      loadBuildWorkerConfig({ BUILD_CONFIG: EXAMPLE_BUILDS, BUILD_QUEUE_STARTS_PER_SECOND: '0.5' }).startsPerSecond,
      0.5,
    );
    assert.equal(loadBuildWorkerConfig({ BUILD_CONFIG: EXAMPLE_BUILDS }).startsPerSecond, undefined);
  });

  for (const value of ['0', '-1', 'soon']) {
    test(`BUILD_QUEUE_STARTS_PER_SECOND=${value} is refused, naming it`, () => {
      const problems = problemsOf(() =>
        loadBuildWorkerConfig({ BUILD_CONFIG: EXAMPLE_BUILDS, BUILD_QUEUE_STARTS_PER_SECOND: value }),
      );
      assert.deepEqual(
        problems.map((p) => p.key),
        ['BUILD_QUEUE_STARTS_PER_SECOND'],
      );
    });
  }
});
