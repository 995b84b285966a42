import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/workflow';
import { durationSchema, stepIdSchema } from '../spec/common';
import { durationToMs, type Duration } from '../spec/duration';
import type { Step } from '../spec/types';
import { resolveDeviceId } from './device-action';
import { DeviceFailure } from './device-contract';
import { closeSession, DeviceSession, nestedStepIds, openSession } from './device-hold';
import type { BaseStep, StepKind } from './step-kind';

/**
 * Holds one device for all its inner steps (upload, then pattern tests, then metrics), so no
 * other run touches the board in between. Runs queue for the device first come, first served
 * (the `deviceQueue` query shows the position). The hold is a lease the run renews while it
 * lives; every device action carries the hold's fencing token, which the device worker checks.
 *
 * A session does not hold the board while a human decides: approval steps are not allowed
 * inside, and when an inner device step escalates (board offline) the session lets go of the
 * device until the decision, then queues for it again.
 */
export interface DeviceSessionStep extends BaseStep {
  kind: 'device_session';
  device: string;
  /** Lease of the hold (default: the device's configured lease, 5 min). */
  lease?: Duration;
  steps: Step[];
}

function approvalsWithin(steps: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(steps)) return steps.flatMap((s, i) => approvalsWithin(s, [...path, i]));
  if (steps === null || typeof steps !== 'object') return [];
  const o = steps as Record<string, unknown>;
  const here = o.kind === 'approval' && typeof o.id === 'string' ? [path] : [];
  return [...here, ...Object.entries(o).flatMap(([k, v]) => approvalsWithin(v, [...path, k]))];
}

export const deviceSessionKind: StepKind<DeviceSessionStep> = {
  kind: 'device_session',
  schema: (step) =>
    z
      .strictObject({
        id: stepIdSchema,
        kind: z.literal('device_session'),
        name: z.string().optional(),
        device: z.string().min(1),
        lease: durationSchema.optional(),
        steps: z.array(step).min(1),
      })
      .superRefine((s, check) => {
        for (const at of approvalsWithin(s.steps, ['steps'])) {
          check.addIssue({
            code: 'custom',
            path: at,
            message:
              'approval steps cannot run inside a device_session (it would hold the board while a human decides); put the approval before the session',
          });
        }
      }),
  nested: (step) => ({ lists: [step.steps], exported: true }),
  async run(step, ctx) {
    const deviceId = resolveDeviceId(ctx, step.device);
    const leaseMs = step.lease === undefined ? undefined : durationToMs(step.lease);
    if (leaseMs !== undefined && leaseMs < 1000) {
      throw ApplicationFailure.create({
        type: 'InvalidSpec',
        message: `step "${ctx.path}": lease must be at least 1s`,
        nonRetryable: true,
      });
    }
    const session = new DeviceSession(ctx.path, deviceId, nestedStepIds(step.steps), leaseMs);
    openSession(session);
    const started = Date.now();
    try {
      try {
        await session.acquire();
      } catch (err) {
        // A device nobody serves: inner device steps find that out too and escalate one by one.
        if (!(err instanceof ApplicationFailure && err.type === DeviceFailure.Unreachable)) throw err;
      }
      const output = await ctx.runSteps(step.steps);
      return { deviceId, heldMs: Date.now() - started, output };
    } finally {
      closeSession(session);
      await session.end();
    }
  },
};
