import { z } from 'zod';
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { durationSchema, durationToMs } from '../contracts/duration';
import { stepIdSchema } from '../spec/common';
import type { DeviceSessionStep, Step } from '../contracts/spec';
import { resolveDeviceId } from './device-action';
import { SessionHolds } from './device-access';
import { DEVICE_ACCESS_PATCH, enclosingSession, runLegacySession } from './device-legacy';
import type { DeviceSessionScope } from './device-scope';
import type { StepContext, StepKind } from './step-kind';

const DEVICE_STEP_KINDS: ReadonlySet<Step['kind']> = new Set(['device_session', 'device_upload', 'device_command']);

function approvalsWithin(steps: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(steps)) return steps.flatMap((s, i) => approvalsWithin(s, [...path, i]));
  if (steps === null || typeof steps !== 'object') return [];
  const o = steps as Record<string, unknown>;
  const here = o.kind === 'approval' && typeof o.id === 'string' ? [path] : [];
  return [...here, ...Object.entries(o).flatMap(([k, v]) => approvalsWithin(v, [...path, k]))];
}

/**
 * Every device the session's steps name, resolved now: the session takes them all at its start,
 * in sorted order, so sessions over the same devices always queue for them in the same order.
 */
function devicesOf(step: DeviceSessionStep, ctx: StepContext, own: string): string[] {
  const ids = new Set([own]);
  for (const inner of ctx.descendants(step.steps)) {
    if (!DEVICE_STEP_KINDS.has(inner.kind)) continue;
    const device = (inner as { device?: string }).device;
    if (device === undefined) continue;
    try {
      ids.add(resolveDeviceId(ctx, device));
    } catch (err) {
      throw ApplicationFailure.create({
        type: 'InvalidSpec',
        message:
          `step "${ctx.path}": the device of its step "${inner.id}" must be known when the session starts ` +
          `(it takes all its devices at once, in order; name it from inputs or earlier steps): ${(err as Error).message}`,
        nonRetryable: true,
      });
    }
  }
  return [...ids].sort();
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
    const outer = ctx.devices.session;
    const started = Date.now();
    if (outer) {
      // Nested: the enclosing session took this device with the others at its start; its steps default to this device.
      const scope: DeviceSessionScope = {
        path: outer.path,
        primary: deviceId,
        covers: (id) => outer.covers(id),
        holdOf: (id) => outer.holdOf(id),
        releaseWhile: (fn) => outer.releaseWhile(fn),
      };
      const output = await ctx.runSteps(step.steps, scope);
      return { deviceId, heldMs: Date.now() - started, output };
    }
    if (enclosingSession(ctx.path) || !patched(DEVICE_ACCESS_PATCH)) {
      return runLegacySession(step.steps, ctx, deviceId, leaseMs);
    }
    const devices = devicesOf(step, ctx, deviceId);
    const session = new SessionHolds(ctx.path, deviceId, devices, ctx.devices.requests, leaseMs);
    try {
      await session.takeAll();
      const output = await ctx.runSteps(step.steps, session);
      return { deviceId, ...(devices.length > 1 && { devices }), heldMs: Date.now() - started, output };
    } finally {
      await session.end();
    }
  },
};
