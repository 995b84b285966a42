import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/workflow';
import { durationSchema, durationToMs } from '../contracts/duration';
import { stepIdSchema } from '../spec/common';
import type { DeviceSessionStep } from '../contracts/spec';
import { resolveDeviceId } from './device-action';
import { DeviceFailure } from '../contracts/device';
import { closeSession, DeviceSession, nestedStepIds, openSession } from './device-hold';
import type { StepKind } from './step-kind';

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
