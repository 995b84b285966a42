import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { SearchAttributeType } from '@temporalio/common';
import { ensureJavaTestServer } from '../../temporal/test-server';
import { CUSTOM_SEARCH_ATTRIBUTE_KEYS } from '../../workflows/shared';
import { quietRuntime } from './temporal';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const INDEXED_TYPES: Partial<Record<SearchAttributeType, temporal.api.enums.v1.IndexedValueType>> = {
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.KEYWORD_LIST]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  [SearchAttributeType.INT]: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.DOUBLE]: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
};

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
  const searchAttributes = Object.fromEntries(
    CUSTOM_SEARCH_ATTRIBUTE_KEYS.map((key) => {
      const type = INDEXED_TYPES[key.type];
      if (type === undefined) throw new Error(`no indexed type for search attribute ${key.name} (${key.type})`);
      return [key.name, type];
    }),
  );
  await env.connection.operatorService.addSearchAttributes({ namespace: env.namespace ?? 'default', searchAttributes });
}
