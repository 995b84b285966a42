/**
 * How each workflow type moves when a new worker version becomes current (Worker Versioning;
 * README, "Upgrade the workers"). AUTO_UPGRADE: the run's next workflow task goes to the new
 * version, which replays its history, so every change to that code is guarded with patched() and
 * proven by the replay corpus. PINNED: the run stays on the version it started on until it ends.
 */
import { setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import type { VersioningBehavior } from '@temporalio/common';

export const VERSIONING_BEHAVIOR = {
  // Runs wait days at approvals: they must reach fixed code without keeping old workers alive.
  runSpec: 'AUTO_UPGRADE',
  // Runs forever (continuing as new); pinned, it would hold its first version for good.
  deviceLock: 'AUTO_UPGRADE',
  // Lives for seconds and reports the pool of the worker it runs on: nothing to gain from moving.
  reportMcpInventory: 'PINNED',
  // Children of a run's steps that live as long as the step (a long agent loop, a device hold):
  // they move with their run.
  agentLoop: 'AUTO_UPGRADE',
  deviceLeaseKeeper: 'AUTO_UPGRADE',
} as const satisfies Record<string, VersioningBehavior>;

/**
 * Declares the behaviour of each workflow this bundle exports, on versioned workers only (those
 * with a deployment name; an unversioned worker still has a build id): the server refuses a
 * workflow task naming a behaviour from an unversioned worker, as tests and embedders run.
 * Read once per run and worker, from the version that ran the run's first task, so a run begun
 * on an unversioned worker takes the worker's default (AUTO_UPGRADE) on a versioned one.
 */
export function declareVersioningBehavior(workflows: {
  [T in keyof typeof VERSIONING_BEHAVIOR]?: (...args: never[]) => Promise<unknown>;
}): void {
  for (const [type, fn] of Object.entries(workflows)) {
    if (!fn) continue;
    const behavior = VERSIONING_BEHAVIOR[type as keyof typeof VERSIONING_BEHAVIOR];
    setWorkflowOptions(
      () => ({ versioningBehavior: workflowInfo().currentDeploymentVersion?.deploymentName ? behavior : undefined }),
      fn,
    );
  }
}
