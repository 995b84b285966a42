/** The contract between the `build` step kind and the build worker. Workflow-safe. */

export const BUILD_TASK_QUEUE = 'build';

export const BUILD_TARGET_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface BuildInput {
  workspace: string;
  target?: string;
  origin: { workflowId?: string; stepPath: string };
}

export interface BuildResult {
  workspace: string;
  target?: string;
  /** Absolute path of the built artifact on the build host. */
  artifact: string;
  bytes: number;
  sha256: string;
  exitCode: number;
  durationMs: number;
  /** Last lines of the build's output. */
  logTail: string;
}

/** Heartbeat details while a build runs: its output so far. */
export interface BuildProgress {
  bytes: number;
  tail: string[];
}

export interface BuildActivities {
  runBuild(input: BuildInput): Promise<BuildResult>;
}
