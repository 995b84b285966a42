/**
 * Worker deployments as an operator sees them: the versions of a deployment, which one is
 * current, promoting one. The orchestrator worker uses `promoteOnStart`; the same calls back
 * `temporal worker deployment describe` / `set-current-version` (README, "Upgrade the workers").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { temporal } from '@temporalio/proto';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { PromotePolicy } from './versioning-config';

type WorkflowService = Pick<
  temporal.api.workflowservice.v1.WorkflowService,
  'describeWorkerDeployment' | 'describeWorkerDeploymentVersion' | 'setWorkerDeploymentCurrentVersion'
>;
/** A client Connection and a worker's NativeConnection both have one. */
export interface HasWorkflowService {
  workflowService: WorkflowService;
}

const { RoutingConfigUpdateState, TaskQueueType, VersionDrainageStatus, WorkerDeploymentVersionStatus } =
  temporal.api.enums.v1;

export interface VersionSummary {
  buildId: string;
  /** inactive, current, ramping, draining, drained */
  status: string;
  /** unspecified, draining, drained: whether runs pinned to it are still open */
  drainage: string;
}

export interface DeploymentView {
  /** Build id of the current version; undefined: new runs go to unversioned workers. */
  current?: string;
  /** The deployment has had a current version at some time (an operator's choice stays). */
  everPromoted: boolean;
  versions: VersionSummary[];
  /** A routing change is still reaching the task queues. */
  propagating: boolean;
  conflictToken: Uint8Array;
}

/** gRPC status codes (kept local: importing grpc-js would split protobufjs copies). */
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;
const ABORTED = 10;
const grpcCode = (err: unknown): number | undefined => (err as { code?: number }).code;

const enumName = (values: Record<string, unknown>, value: number, prefix: string): string =>
  (Object.keys(values).find((k) => values[k] === value) ?? 'UNSPECIFIED').replace(prefix, '').toLowerCase();

/** The deployment, or undefined while no worker of it has polled yet. */
export async function describeDeployment(
  connection: HasWorkflowService,
  namespace: string,
  deploymentName: string,
): Promise<DeploymentView | undefined> {
  let res: temporal.api.workflowservice.v1.IDescribeWorkerDeploymentResponse;
  try {
    res = await connection.workflowService.describeWorkerDeployment({ namespace, deploymentName });
  } catch (err) {
    if (grpcCode(err) === NOT_FOUND) return undefined;
    throw err;
  }
  const info = res.workerDeploymentInfo;
  const routing = info?.routingConfig;
  return {
    current: routing?.currentDeploymentVersion?.buildId ?? undefined,
    everPromoted: Boolean(routing?.currentDeploymentVersion || routing?.currentVersionChangedTime),
    versions: (info?.versionSummaries ?? []).map((v) => ({
      buildId: v.deploymentVersion?.buildId ?? '',
      status: enumName(WorkerDeploymentVersionStatus, v.status ?? 0, 'WORKER_DEPLOYMENT_VERSION_STATUS_'),
      drainage: enumName(VersionDrainageStatus, v.drainageStatus ?? 0, 'VERSION_DRAINAGE_STATUS_'),
    })),
    propagating: info?.routingConfigUpdateState === RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS,
    conflictToken: res.conflictToken ?? new Uint8Array(),
  };
}

/**
 * The task queues a version's workers have polled, as `name (workflow|activity|nexus)`. The
 * server refuses to make a version current that lacks one of the current version's: a new
 * worker registers its workflow and its activity queue one after the other.
 */
export async function versionTaskQueues(
  connection: HasWorkflowService,
  namespace: string,
  version: WorkerDeploymentVersion,
): Promise<string[]> {
  const res = await connection.workflowService.describeWorkerDeploymentVersion({
    namespace,
    deploymentVersion: version,
  });
  return (res.versionTaskQueues ?? [])
    .map((q) => `${q.name} (${enumName(TaskQueueType, q.type ?? 0, 'TASK_QUEUE_TYPE_')})`)
    .sort();
}

/** What `version` lacks of `current`'s task queues (empty: it can become current). */
export async function missingTaskQueues(
  connection: HasWorkflowService,
  namespace: string,
  version: WorkerDeploymentVersion,
  currentBuildId: string,
): Promise<string[]> {
  const ours = new Set(await versionTaskQueues(connection, namespace, version));
  const theirs = await versionTaskQueues(connection, namespace, { ...version, buildId: currentBuildId });
  return theirs.filter((q) => !ours.has(q));
}

/** Makes `version` current; new runs and auto-upgrade runs go to it from their next task. */
export async function setCurrentVersion(
  connection: HasWorkflowService,
  namespace: string,
  version: WorkerDeploymentVersion,
  conflictToken?: Uint8Array,
): Promise<void> {
  await connection.workflowService.setWorkerDeploymentCurrentVersion({
    namespace,
    deploymentName: version.deploymentName,
    buildId: version.buildId,
    conflictToken,
  });
}

export const promoteCommand = (v: WorkerDeploymentVersion): string =>
  `temporal worker deployment set-current-version --deployment-name ${v.deploymentName} --build-id ${v.buildId}`;

export interface PromoteOnStartOptions {
  policy: PromotePolicy;
  log: { info(message: string): void; warn(message: string): void };
  /** Stops waiting (the worker stopped). */
  signal: AbortSignal;
  pollMs?: number;
  /** How long to wait for this version to poll every task queue of the current one. */
  taskQueueWaitMs?: number;
}

/**
 * Run beside a starting worker: waits until the server lists the worker's version (its pollers
 * register it), then makes it current if `policy` says so. Two workers promoting at once are
 * told apart by the conflict token; the loser looks again and finds a current version.
 */
export async function promoteOnStart(
  connection: HasWorkflowService,
  namespace: string,
  version: WorkerDeploymentVersion,
  o: PromoteOnStartOptions,
): Promise<void> {
  const pollMs = o.pollMs ?? 250;
  const taskQueueDeadline = Date.now() + (o.taskQueueWaitMs ?? 60_000);
  const name = `${version.deploymentName}.${version.buildId}`;
  const pause = () => sleep(pollMs, undefined, { signal: o.signal }).catch(() => undefined);
  while (!o.signal.aborted) {
    const view = await describeDeployment(connection, namespace, version.deploymentName);
    if (!view?.versions.some((v) => v.buildId === version.buildId)) {
      await pause();
      continue;
    }
    if (view.current === version.buildId) {
      o.log.info(`worker deployment version ${name} is current`);
      return;
    }
    const waits = o.policy === 'never' || (o.policy === 'first' && view.everPromoted);
    if (waits) {
      o.log.info(
        `worker deployment version ${name} registered; ${view.current ?? 'unversioned'} stays current ` +
          `until an operator promotes this one: ${promoteCommand(version)}`,
      );
      return;
    }
    const missing = view.current ? await missingTaskQueues(connection, namespace, version, view.current) : [];
    if (missing.length > 0) {
      if (Date.now() < taskQueueDeadline) {
        await pause();
        continue;
      }
      o.log.warn(
        `worker deployment version ${name} does not poll ${missing.join(', ')} as ${view.current} does; ` +
          `not promoted. If that is intended: ${promoteCommand(version)} --ignore-missing-task-queues`,
      );
      return;
    }
    try {
      await setCurrentVersion(connection, namespace, version, view.conflictToken);
      o.log.info(`worker deployment version ${name} is now current (promote: ${o.policy})`);
      return;
    } catch (err) {
      // Someone else changed the routing between our read and our write: read again.
      if (grpcCode(err) !== FAILED_PRECONDITION && grpcCode(err) !== ABORTED) throw err;
    }
  }
}
