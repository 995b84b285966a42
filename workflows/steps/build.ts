import { z } from 'zod';
import { ActivityCancellationType, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import { durationSchema, durationToMs } from '../contracts/duration';
import { retrySchema, stepIdSchema, toRetryPolicy } from '../spec/common';
import type { RetrySpec, BuildStep } from '../contracts/spec';
import type { StepKind } from './step-kind';
import { BUILD_TARGET_RE, BUILD_TASK_QUEUE, type BuildActivities } from '../contracts/build';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

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
