import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../../config/config-errors';
import { DEFAULT_DEPLOYMENT_NAME, defaultBuildId, loadWorkerVersioningConfig } from '../../temporal/versioning-config';

const ROOT = path.resolve(__dirname, '../..');

function problemKeys(env: NodeJS.ProcessEnv): string[] {
  try {
    loadWorkerVersioningConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.map((p) => p.key);
  }
  assert.fail('expected a ConfigError');
}

describe('worker versioning config', () => {
  test('on by default: the default deployment, a derived build id, the first version promotes itself', () => {
    assert.deepEqual(loadWorkerVersioningConfig({}), {
      enabled: true,
      deploymentName: DEFAULT_DEPLOYMENT_NAME,
      buildId: undefined,
      promote: 'first',
    });
  });

  test('read from the environment, or turned off', () => {
    assert.deepEqual(
      loadWorkerVersioningConfig({
        WORKER_DEPLOYMENT_NAME: 'agents_prod',
        WORKER_BUILD_ID: '1.4.0+g1a2b3c',
        WORKER_PROMOTE: 'never',
      }),
      { enabled: true, deploymentName: 'agents_prod', buildId: '1.4.0+g1a2b3c', promote: 'never' },
    );
    assert.deepEqual(loadWorkerVersioningConfig({ WORKER_VERSIONING: 'off', WORKER_BUILD_ID: '1' }), {
      enabled: false,
    });
  });

  test('a bad value names its key', () => {
    assert.deepEqual(problemKeys({ WORKER_VERSIONING: 'yes' }), ['WORKER_VERSIONING']);
    // Temporal writes a version as "<deployment>.<build id>": a dot in the name is refused by the server.
    assert.deepEqual(problemKeys({ WORKER_DEPLOYMENT_NAME: 'agents.prod' }), ['WORKER_DEPLOYMENT_NAME']);
    assert.deepEqual(problemKeys({ WORKER_DEPLOYMENT_NAME: '' }), ['WORKER_DEPLOYMENT_NAME']);
    assert.deepEqual(problemKeys({ WORKER_BUILD_ID: 'has space' }), ['WORKER_BUILD_ID']);
    assert.deepEqual(problemKeys({ WORKER_BUILD_ID: 'x'.repeat(65) }), ['WORKER_BUILD_ID']);
    assert.deepEqual(problemKeys({ WORKER_PROMOTE: 'sometimes' }), ['WORKER_PROMOTE']);
  });

  test('the default build id follows the workflow code, not where it was bundled', () => {
    const code = 'var __TEMPORAL__;\n/* workflows */';
    const here = `${code}\n//# sourceMappingURL=data:application/json;base64,L2hvbWUvYQ==`;
    const there = `${code}\n//# sourceMappingURL=data:application/json;base64,L3Nydi9i\n`;
    assert.equal(defaultBuildId(here, '0.1.0'), defaultBuildId(there, '0.1.0'));
    assert.match(defaultBuildId(here, '0.1.0'), /^0\.1\.0-[0-9a-f]{12}$/);
    assert.notEqual(defaultBuildId(`${code} changed`, '0.1.0'), defaultBuildId(code, '0.1.0'));
    assert.notEqual(defaultBuildId(code, '0.2.0'), defaultBuildId(code, '0.1.0'));
  });

  for (const [entry, refusal] of [
    ['workers/orchestrator.ts', 'orchestrator worker refused to start'],
    ['temporal/start-system.ts', 'npm start refused to start'],
  ] as const) {
    test(`${entry} refuses to start on a bad versioning value and names the key`, () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], {
        cwd: ROOT,
        env: { ...process.env, WORKER_BUILD_ID: 'not valid', TEMPORAL_ADDRESS: '127.0.0.1:1' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`${refusal}: invalid configuration in environment:\\n\\s+- WORKER_BUILD_ID: `));
    });
  }
});
