import { z } from 'zod';
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import { durationSchema, retrySchema, stepIdSchema, toRetryPolicy, type RetrySpec } from '../spec/common';
import { durationToMs, type Duration } from '../spec/duration';
import type { BaseStep, StepKind } from './step-kind';

/** Calls a named activity from the worker's registry (built-in `http`, or ones a deployment adds). */
export interface ActivityStep extends BaseStep {
  kind: 'activity';
  activity: string;
  args?: unknown;
  startToCloseTimeout?: Duration;
  scheduleToCloseTimeout?: Duration;
  heartbeatTimeout?: Duration;
  retry?: RetrySpec;
}

export const activityKind: StepKind<ActivityStep> = {
  kind: 'activity',
  schema: () =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('activity'),
      name: z.string().optional(),
      activity: z.string().regex(/^[A-Za-z][\w.-]*$/, 'activity name must be an identifier such as http'),
      args: z.unknown().optional(),
      startToCloseTimeout: durationSchema.optional(),
      scheduleToCloseTimeout: durationSchema.optional(),
      heartbeatTimeout: durationSchema.optional(),
      retry: retrySchema.optional(),
    }),
  async run(step, ctx) {
    const ms = (d: Duration | undefined) => (d === undefined ? undefined : durationToMs(d));
    const activities = proxyActivities<Record<string, (args: unknown) => Promise<unknown>>>({
      startToCloseTimeout: ms(step.startToCloseTimeout) ?? 60_000,
      scheduleToCloseTimeout: ms(step.scheduleToCloseTimeout),
      heartbeatTimeout: ms(step.heartbeatTimeout),
      retry: toRetryPolicy(step.retry),
      summary: ctx.path,
      // An activity that heartbeats can confirm it stopped; wait for that before the run reports cancelled.
      cancellationType:
        step.heartbeatTimeout === undefined
          ? ActivityCancellationType.TRY_CANCEL
          : ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    });
    const fn = activities[step.activity] as (args: unknown) => Promise<unknown>;
    return fn(ctx.resolve(step.args ?? {}));
  },
};
