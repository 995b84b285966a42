import { z } from 'zod';
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { durationSchema, retrySchema, stepIdSchema, type RetrySpec } from '../spec/common';
import { durationToMs, type Duration } from '../spec/duration';
import { deviceActivities, escalationSchema, runDeviceAction, type EscalationSpec } from './device-action';
import type { BaseStep, StepKind } from './step-kind';

/**
 * Writes one line to the board's serial console and waits for a line matching `expect` (a
 * regular expression; named groups become `output.groups`): a pattern test, a metrics read.
 */
export interface DeviceCommandStep extends BaseStep {
  kind: 'device_command';
  device?: string;
  send: string;
  expect: string;
  /** How long to wait for the expected line (default: the device's command timeout). */
  timeout?: Duration;
  retry?: RetrySpec;
  onUnreachable?: EscalationSpec;
}

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
