import { z } from 'zod';
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { durationSchema, durationToMs } from '../contracts/duration';
import { retrySchema, stepIdSchema } from '../spec/common';
import type { DeviceCommandStep } from '../contracts/spec';
import { deviceActivities, escalationSchema, runDeviceAction } from './device-action';
import type { StepKind } from './step-kind';

const regexSchema = z.string().refine(
  (source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expect must be a valid regular expression' },
);

/** The activity may take the wait plus time to open the port. */
const COMMAND_MARGIN_MS = 10_000;

export const deviceCommandKind: StepKind<DeviceCommandStep> = {
  kind: 'device_command',
  schema: () =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('device_command'),
      name: z.string().optional(),
      device: z.string().min(1).optional(),
      send: z
        .string()
        .min(1)
        .refine((s) => !/[\r\n]/.test(s), { message: 'send must be a single line' }),
      expect: regexSchema,
      timeout: durationSchema.optional(),
      retry: retrySchema.optional(),
      onUnreachable: escalationSchema.optional(),
    }),
  async run(step, ctx) {
    const send = String(ctx.resolve(step.send));
    if (/[\r\n]/.test(send)) {
      throw ApplicationFailure.create({
        type: 'InvalidSpec',
        message: `step "${ctx.path}": send must resolve to a single line`,
        nonRetryable: true,
      });
    }
    return runDeviceAction({
      kind: 'command',
      ctx,
      device: step.device,
      what: `command "${send}"`,
      escalation: step.onUnreachable,
      perform: (access, deviceId) => {
        const timeoutMs = step.timeout === undefined ? access.settings.commandTimeoutMs : durationToMs(step.timeout);
        return deviceActivities(access, {
          ctx,
          startToCloseMs: timeoutMs + COMMAND_MARGIN_MS,
          retry: step.retry,
        }).deviceCommand({
          deviceId,
          token: access.token,
          send,
          expect: step.expect,
          timeoutMs,
          origin: { workflowId: workflowInfo().workflowId, stepPath: ctx.path },
        });
      },
    });
  },
};
