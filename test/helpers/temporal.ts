import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ensureTemporalCli } from '../../temporal/cli';
import { dynamicConfigArgs } from '../../temporal/dev-server';
import { CUSTOM_SEARCH_ATTRIBUTE_KEYS } from '../../workflows/contracts/run';
import { createClusterTestEnv } from '../cluster/test-env';

/** A real Temporal dev server (our CLI, never a download), in memory, on a free loopback port, configured as `npm start`'s. */
export async function createTestEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  // `npm run test:cluster`: a namespace of its own on the running cluster instead.
  const cluster = process.env.TEMPORAL_TEST_ADDRESS;
  if (cluster) return createClusterTestEnv(cluster);
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: await ensureTemporalCli() },
      ip: '127.0.0.1',
      searchAttributes: [...CUSTOM_SEARCH_ATTRIBUTE_KEYS],
      extraArgs: ['--log-level', 'error', ...dynamicConfigArgs()],
    },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
const noop = () => undefined;

/** Bundling takes seconds; do it once per test process. */
export function bundleWorkflowsOnce(): Promise<WorkflowBundleWithSourceMap> {
  quietRuntime();
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
  });
  return bundle;
}

let runtimeInstalled = false;
/** Worker state chatter hides test output; keep warnings and errors. Must precede any worker. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Already installed by this process: keep that one.
  }
}
