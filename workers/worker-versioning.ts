/**
 * What a versioned orchestrator worker adds to Worker.create: the workflow bundle it hashes for
 * its build id, its deployment options, and a plugin that promotes its version once it polls.
 */
import { readFile } from 'node:fs/promises';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import {
  bundleWorkflowCode,
  type BundlerPlugin,
  DefaultLogger,
  type NativeConnection,
  type WorkerDeploymentOptions,
  type WorkerPlugin,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { promoteOnStart } from '../temporal/worker-deployments';
import { defaultBuildId, type PromotePolicy, type WorkerVersioningConfig } from '../temporal/versioning-config';

export interface VersionedWorker {
  version: WorkerDeploymentVersion;
  workflowBundle: WorkflowBundleOption;
  workerDeploymentOptions: WorkerDeploymentOptions;
  plugin: WorkerPlugin;
}

async function bundleCode(
  bundle: WorkflowBundleOption | undefined,
  workflowsPath: string,
  plugins: BundlerPlugin[] = [],
): Promise<string> {
  // WARN: webpack's module statistics are not for the operator's terminal.
  if (!bundle) return (await bundleWorkflowCode({ workflowsPath, plugins, logger: new DefaultLogger('WARN') })).code;
  if ('code' in bundle) return bundle.code;
  return readFile(bundle.codePath, 'utf8');
}

/**
 * Workflow types say how they move between versions (workflows/versioning.ts). This default
 * covers a run begun on an unversioned worker, which carries no declaration: most types move.
 */
const DEFAULT_BEHAVIOR = 'AUTO_UPGRADE';

export async function prepareVersionedWorker(
  config: Extract<WorkerVersioningConfig, { enabled: true }>,
  o: {
    bundle?: WorkflowBundleOption;
    workflowsPath: string;
    connection: NativeConnection;
    namespace: string;
    /** What the bundle must hold besides the workflows (tracing's workflow interceptors). */
    bundlerPlugins?: BundlerPlugin[];
  },
): Promise<VersionedWorker> {
  const code = await bundleCode(o.bundle, o.workflowsPath, o.bundlerPlugins);
  const version = { deploymentName: config.deploymentName, buildId: config.buildId ?? defaultBuildId(code) };
  return {
    version,
    workflowBundle: { code },
    workerDeploymentOptions: { version, useWorkerVersioning: true, defaultVersioningBehavior: DEFAULT_BEHAVIOR },
    plugin: promoteOnStartPlugin(o.connection, o.namespace, version, config.promote),
  };
}

function promoteOnStartPlugin(
  connection: NativeConnection,
  namespace: string,
  version: WorkerDeploymentVersion,
  policy: PromotePolicy,
): WorkerPlugin {
  return {
    name: 'promote-worker-version',
    async runWorker(worker, next) {
      const stopped = new AbortController();
      // Plain lines, like the worker's banner: the SDK's own log is kept to warnings.
      const promoting = promoteOnStart(connection, namespace, version, {
        policy,
        signal: stopped.signal,
        log: {
          info: (m) => console.log(`orchestrator worker: ${m}`),
          warn: (m) => console.warn(`orchestrator worker: ${m}`),
        },
      }).catch((err: unknown) => {
        // The worker still serves the version; an operator can promote it by hand.
        console.error(`orchestrator worker: could not promote worker deployment version: ${(err as Error).message}`);
      });
      try {
        await next(worker);
      } finally {
        stopped.abort();
        await promoting;
      }
    },
  };
}
