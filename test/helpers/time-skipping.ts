import { TestWorkflowEnvironment } from '@temporalio/testing';
import { customSearchAttributeTypes } from '../../temporal/search-attributes';
import { ensureJavaTestServer } from '../../temporal/test-server';
import { quietRuntime } from './temporal';

/**
 * Temporal's time-skipping test server (the Java build, see temporal/test-server.ts): while a test
 * awaits a workflow's result, timers fire at once and the server's clock jumps ahead.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: await ensureJavaTestServer() } },
  });
  try {
    await registerSearchAttributes(env);
  } catch (err) {
    await env.teardown();
    throw err;
  }
  return env;
}

/**
 * The test server rejects a start or upsert naming an attribute it does not know ("search attribute
 * X is not defined"), and it cannot list attributes, so ours are added without asking first.
 */
async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  const searchAttributes = customSearchAttributeTypes();
  await env.connection.operatorService.addSearchAttributes({ namespace: env.namespace ?? 'default', searchAttributes });
}
