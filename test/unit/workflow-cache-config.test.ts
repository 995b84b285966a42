import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../config/config-errors';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { CACHED_RUN_MIB, DEFAULT_BUDGET_MIB, WORKFLOW_THREAD_BASE_MIB } from '../../workers/workflow-cache-size';

const HEAP_4G = 4144;

test('the sticky cache is sized by its memory budget', () => {
  const byDefault = loadOrchestratorWorkerConfig({}, HEAP_4G).maxCachedWorkflows;
  assert.equal(byDefault, Math.floor(DEFAULT_BUDGET_MIB / CACHED_RUN_MIB));
  const c = loadOrchestratorWorkerConfig({ ORCHESTRATOR_WORKFLOW_CACHE_MB: '120' }, HEAP_4G);
  assert.equal(c.maxCachedWorkflows, Math.floor(120 / CACHED_RUN_MIB));
  // Never below the SDK's smallest cache.
  assert.equal(loadOrchestratorWorkerConfig({ ORCHESTRATOR_WORKFLOW_CACHE_MB: '1' }, HEAP_4G).maxCachedWorkflows, 2);
});

test('an explicit ORCHESTRATOR_MAX_CACHED_WORKFLOWS wins over the budget; 0 turns the cache off', () => {
  const env = { ORCHESTRATOR_MAX_CACHED_WORKFLOWS: '1000', ORCHESTRATOR_WORKFLOW_CACHE_MB: '64' };
  assert.equal(loadOrchestratorWorkerConfig(env, HEAP_4G).maxCachedWorkflows, 1000);
  assert.equal(loadOrchestratorWorkerConfig({ ORCHESTRATOR_MAX_CACHED_WORKFLOWS: '0' }, 512).maxCachedWorkflows, 0);
});

test('a budget the workflow thread heap cannot hold is refused, naming the key and the limit', () => {
  assert.throws(
    () => loadOrchestratorWorkerConfig({ ORCHESTRATOR_WORKFLOW_CACHE_MB: '2048' }, 1024),
    (err) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.problems.map((p) => p.key),
        ['ORCHESTRATOR_WORKFLOW_CACHE_MB'],
      );
      assert.match(err.message, new RegExp(`limit 1024 MiB.*at most ${1024 - WORKFLOW_THREAD_BASE_MIB}`));
      return true;
    },
  );
});

test('by default the cache takes what a small heap holds', () => {
  const c = loadOrchestratorWorkerConfig({}, 512);
  assert.equal(c.maxCachedWorkflows, Math.floor((512 - WORKFLOW_THREAD_BASE_MIB) / CACHED_RUN_MIB));
});

test('bad cache values name their key', () => {
  for (const [key, value] of [
    ['ORCHESTRATOR_WORKFLOW_CACHE_MB', '0'],
    ['ORCHESTRATOR_WORKFLOW_CACHE_MB', 'lots'],
    ['ORCHESTRATOR_WORKFLOW_CACHE_MB', '1.5'],
    ['ORCHESTRATOR_MAX_CACHED_WORKFLOWS', '-1'],
    ['ORCHESTRATOR_MAX_CACHED_WORKFLOWS', 'all'],
  ] as const) {
    assert.throws(
      () => loadOrchestratorWorkerConfig({ [key]: value }, HEAP_4G),
      (err) => {
        assert.ok(err instanceof ConfigError, `${key}=${value}`);
        assert.deepEqual(
          err.problems.map((p) => p.key),
          [key],
        );
        return true;
      },
    );
  }
});
