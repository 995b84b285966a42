import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { loadTemporalConfig, runUrl } from '../../temporal/config';
import { ConfigError } from '../../config/config-errors';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';

test('worker config has sensible defaults', () => {
  const c = loadOrchestratorWorkerConfig({});
  assert.equal(c.maxConcurrentActivityTaskExecutions, 100);
  assert.ok(c.maxCachedWorkflows >= 2); // sized by memory: workflow-cache-config.test.ts
  assert.equal(c.shutdownGraceTimeMs, 30_000);
  assert.deepEqual(c.httpAllowedHosts, []);
});

test('worker config parses lists, numbers and durations', () => {
  const c = loadOrchestratorWorkerConfig({
    HTTP_ALLOWED_HOSTS: 'api.example.com, 127.0.0.1:8080',
    ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES: '7',
    ORCHESTRATOR_SHUTDOWN_GRACE: '5s',
  });
  assert.deepEqual(c.httpAllowedHosts, ['api.example.com', '127.0.0.1:8080']);
  assert.equal(c.maxConcurrentActivityTaskExecutions, 7);
  assert.equal(c.shutdownGraceTimeMs, 5000);
});

test('a bad value is reported with its key', () => {
  assert.throws(
    () =>
      loadOrchestratorWorkerConfig({
        ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES: 'many',
        ORCHESTRATOR_SHUTDOWN_GRACE: 'later',
      }),
    (err) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.key).sort(), [
        'ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES',
        'ORCHESTRATOR_SHUTDOWN_GRACE',
      ]);
      return true;
    },
  );
  assert.throws(() => loadTemporalConfig({ TEMPORAL_ADDRESS: 'no-port' }), /TEMPORAL_ADDRESS: must be host:port/);
  assert.throws(() => loadTemporalConfig({ TEMPORAL_UI_URL: 'not a url' }), /TEMPORAL_UI_URL/);
});

test('Web UI links point at the run', () => {
  const c = loadTemporalConfig({ TEMPORAL_UI_URL: 'http://ui:8233/' });
  assert.equal(runUrl(c, 'a b', 'r1'), 'http://ui:8233/namespaces/default/workflows/a%20b/r1/history');
});

test('the worker process refuses to start on bad config and names the key', () => {
  const root = path.resolve(__dirname, '../..');
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'workers/orchestrator.ts')], {
    cwd: root,
    env: { ...process.env, ORCHESTRATOR_MAX_CACHED_WORKFLOWS: '-3', TEMPORAL_ADDRESS: '127.0.0.1:1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /refused to start: invalid configuration in environment:\n\s+- ORCHESTRATOR_MAX_CACHED_WORKFLOWS: /,
  );
});
