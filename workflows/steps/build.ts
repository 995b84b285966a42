import { z } from 'zod';
import { ActivityCancellationType, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import { durationSchema, retrySchema, stepIdSchema, toRetryPolicy, type RetrySpec } from '../spec/common';
import { durationToMs, type Duration } from '../spec/duration';
import type { BaseStep, StepKind } from './step-kind';

/**
 * Runs a workspace's configured build command (e.g. `pio run -e <target>`) on the `build` task
 * queue, whose worker caps concurrent builds. The command line is server-side config; the spec
 * names the workspace and a target, which must be a plain name.
 */
export interface BuildStep extends BaseStep {
  kind: 'build';
  /** A workspace declared in the build worker's config. */
  workspace: string;
  /** Substituted for `{target}` in the configured command and artifact path. */
  target?: string;
  timeout?: Duration;
  heartbeatTimeout?: Duration;
  retry?: RetrySpec;
}

export const BUILD_TASK_QUEUE = 'build';
export const BUILD_TARGET_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

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

const DEFAULT_BUILD_TIMEOUT = '30m';
const DEFAULT_BUILD_HEARTBEAT = '30s';
/** A build that fails fails the same way again; only lost workers are retried. */
const DEFAULT_BUILD_RETRY: RetrySpec = {
  maxAttempts: 2,
  initialInterval: '5s',
  nonRetryableErrorTypes: ['BuildFailed'],
};

export const buildKind: StepKind<BuildStep> = {
  kind: 'build',
  schema: () =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('build'),
      name: z.string().optional(),
      workspace: z.string().regex(NAME_RE, 'workspace must name a configured build workspace'),
      target: z.string().min(1).optional(),
      timeout: durationSchema.optional(),
      heartbeatTimeout: durationSchema.optional(),
      retry: retrySchema.optional(),
    }),
  async run(step, ctx) {
    const target = step.target === undefined ? undefined : ctx.resolve(step.target);
    if (target !== undefined && (typeof target !== 'string' || !BUILD_TARGET_RE.test(target))) {
      throw ApplicationFailure.create({
        type: 'InvalidSpec',
        message: `step "${ctx.path}": target must resolve to a plain name (letters, digits, . _ -), got ${JSON.stringify(target)}`,
        nonRetryable: true,
      });
    }
    const { runBuild } = proxyActivities<BuildActivities>({
      taskQueue: BUILD_TASK_QUEUE,
      startToCloseTimeout: durationToMs(step.timeout ?? DEFAULT_BUILD_TIMEOUT),
      heartbeatTimeout: durationToMs(step.heartbeatTimeout ?? DEFAULT_BUILD_HEARTBEAT),
      retry: toRetryPolicy(step.retry ?? DEFAULT_BUILD_RETRY),
      summary: ctx.path,
      // Cancelling the step kills the build's process group before the step reports cancelled.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    });
    return runBuild({ workspace: step.workspace, target, origin: { stepPath: ctx.path } });
  },
};
