/** TEMPORAL_RETENTION: parsed with the variable named, applied to a real dev server's namespace once. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ConfigError } from '../../config/config-errors';
import { applyRetention, loadRetentionMs } from '../../temporal/retention';
import { createTestEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await createTestEnv();
});
after(async () => {
  await env?.teardown();
});

test('TEMPORAL_RETENTION is a duration of at least a day; unset means leave the namespace alone', () => {
  assert.equal(loadRetentionMs({}), undefined);
  assert.equal(loadRetentionMs({ TEMPORAL_RETENTION: '3d' }), 3 * 24 * 3600_000);
  for (const bad of ['1h', 'soon']) {
    assert.throws(
      () => loadRetentionMs({ TEMPORAL_RETENTION: bad }),
      (err: Error) => err instanceof ConfigError && /TEMPORAL_RETENTION/.test(err.message),
      bad,
    );
  }
});

test('the retention is set on the namespace, and a second start changes nothing', async () => {
  const namespace = env.namespace ?? 'default';
  assert.equal(await applyRetention(env.connection, namespace, 3 * 24 * 3600_000), true);
  const described = await env.connection.workflowService.describeNamespace({ namespace });
  assert.equal(Number(described.config?.workflowExecutionRetentionTtl?.seconds), 3 * 24 * 3600);
  assert.equal(await applyRetention(env.connection, namespace, 3 * 24 * 3600_000), false);
});
