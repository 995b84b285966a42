import { z } from 'zod';
import { workflowInfo } from '@temporalio/workflow';
import { durationSchema, durationToMs } from '../contracts/duration';
import { retrySchema, stepIdSchema } from '../spec/common';
import type { DeviceUploadStep } from '../contracts/spec';
import { deviceActivities, escalationSchema, runDeviceAction } from './device-action';
import type { StepKind } from './step-kind';

export const deviceUploadKind: StepKind<DeviceUploadStep> = {
  kind: 'device_upload',
  schema: () =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('device_upload'),
      name: z.string().optional(),
      device: z.string().min(1).optional(),
      artifact: z.string().min(1),
      timeout: durationSchema.optional(),
      retry: retrySchema.optional(),
      onUnreachable: escalationSchema.optional(),
    }),
  async run(step, ctx) {
    const artifact = ctx.resolve(step.artifact);
    return runDeviceAction({
      kind: 'upload',
      ctx,
      device: step.device,
      what: `upload of ${String(artifact)}`,
      escalation: step.onUnreachable,
      perform: (access, deviceId) => {
        const startToCloseMs =
          step.timeout === undefined ? access.settings.uploadTimeoutMs : durationToMs(step.timeout);
        return deviceActivities(access, { ctx, startToCloseMs, retry: step.retry }).deviceUpload({
          deviceId,
          token: access.token,
          artifact: String(artifact),
          origin: { workflowId: workflowInfo().workflowId, stepPath: ctx.path },
        });
      },
    });
  },
};
