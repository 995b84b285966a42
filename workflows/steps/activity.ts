import { z } from 'zod';
import { ActivityCancellationType, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { durationSchema, durationToMs, type Duration } from '../contracts/duration';
import { retrySchema, stepIdSchema, toRetryPolicy } from '../spec/common';
import type { ActivityStep } from '../contracts/spec';
import type { StepContext, StepKind } from './step-kind';
import { BUILT_IN_SPEC_ACTIVITIES, INTERNAL_ACTIVITY_NAMES, SPEC_ACTIVITY_PREFIX } from '../contracts/spec-activities';

/** Attempts of an activity step whose `retry` does not say (Temporal's own default is unlimited). */
export const DEFAULT_ACTIVITY_MAX_ATTEMPTS = 3;
/** Longest a `local: true` step may take: longer work belongs in an activity task the server tracks. */
export const LOCAL_STEP_MAX_TIMEOUT = '30s';
const LOCAL_STEP_DEFAULT_TIMEOUT_MS = 10_000;
/**
 * Runs before it scheduled the spec's name as it was (any registered activity, `llmChat`
 * included) with unlimited retries. Recorded histories without this marker replay the old way.
 */
export const SPEC_ACTIVITY_PATCH = 'spec-activity-registry';

const activityName = z
  .string()
  .regex(/^[A-Za-z][\w.-]*$/, 'activity name must be an identifier such as http')
  .superRefine((name, check) => {
    if ((INTERNAL_ACTIVITY_NAMES as readonly string[]).includes(name)) {
      check.addIssue({
        code: 'custom',
        message:
          `"${name}" is internal to the orchestrator and cannot be called from a spec ` +
          `(use the llm, agent or tool step kinds; spec activities: ${BUILT_IN_SPEC_ACTIVITIES.join(', ')} and those the deployment registers)`,
      });
    } else if (name.startsWith(SPEC_ACTIVITY_PREFIX)) {
      check.addIssue({
        code: 'custom',
        message: `name the activity without the "${SPEC_ACTIVITY_PREFIX}" prefix, e.g. "${name.slice(SPEC_ACTIVITY_PREFIX.length)}"`,
      });
    }
  });

/** Schedules the step's activity (a local one for `local: true`) and returns its promise. */
function startActivity(step: ActivityStep, ctx: StepContext): Promise<unknown> {
  const ms = (d: Duration | undefined) => (d === undefined ? undefined : durationToMs(d));
  if (step.local) {
    const local = proxyLocalActivities<Record<string, (args: unknown) => Promise<unknown>>>({
      startToCloseTimeout: ms(step.startToCloseTimeout) ?? LOCAL_STEP_DEFAULT_TIMEOUT_MS,
      scheduleToCloseTimeout: ms(step.scheduleToCloseTimeout),
      retry: toRetryPolicy({ maxAttempts: DEFAULT_ACTIVITY_MAX_ATTEMPTS, ...step.retry }),
      summary: ctx.path,
    });
    return (local[`${SPEC_ACTIVITY_PREFIX}${step.activity}`] as (args: unknown) => Promise<unknown>)(
      ctx.resolve(step.args ?? {}),
    );
  }
  const registry = ctx.isPatched(SPEC_ACTIVITY_PATCH);
  const activities = proxyActivities<Record<string, (args: unknown) => Promise<unknown>>>({
    startToCloseTimeout: ms(step.startToCloseTimeout) ?? 60_000,
    scheduleToCloseTimeout: ms(step.scheduleToCloseTimeout),
    heartbeatTimeout: ms(step.heartbeatTimeout),
    retry: toRetryPolicy(registry ? { maxAttempts: DEFAULT_ACTIVITY_MAX_ATTEMPTS, ...step.retry } : step.retry),
    summary: ctx.path,
    // An activity that heartbeats can confirm it stopped; wait for that before the run reports cancelled.
    cancellationType:
      step.heartbeatTimeout === undefined
        ? ActivityCancellationType.TRY_CANCEL
        : ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  // An unknown name fails non-retryably on the worker (its fallback activity names it).
  const fn = activities[registry ? `${SPEC_ACTIVITY_PREFIX}${step.activity}` : step.activity] as (
    args: unknown,
  ) => Promise<unknown>;
  return fn(ctx.resolve(step.args ?? {}));
}

export const activityKind: StepKind<ActivityStep> = {
  kind: 'activity',
  schema: () =>
    z
      .strictObject({
        id: stepIdSchema,
        kind: z.literal('activity'),
        name: z.string().optional(),
        activity: activityName,
        args: z.unknown().optional(),
        startToCloseTimeout: durationSchema.optional(),
        scheduleToCloseTimeout: durationSchema.optional(),
        heartbeatTimeout: durationSchema.optional(),
        retry: retrySchema.optional(),
        local: z.boolean().optional(),
      })
      .superRefine((s, check) => {
        if (!s.local) return;
        if (s.heartbeatTimeout !== undefined) {
          check.addIssue({ code: 'custom', path: ['heartbeatTimeout'], message: 'a local step cannot heartbeat' });
        }
        for (const field of ['startToCloseTimeout', 'scheduleToCloseTimeout'] as const) {
          const d = s[field];
          if (d !== undefined && durationToMs(d) > durationToMs(LOCAL_STEP_MAX_TIMEOUT)) {
            check.addIssue({
              code: 'custom',
              path: [field],
              message: `a local step takes at most ${LOCAL_STEP_MAX_TIMEOUT}; run longer work as an activity task (local: false)`,
            });
          }
        }
      }),
  run: async (step, ctx) => startActivity(step, ctx),
  start: startActivity,
};
