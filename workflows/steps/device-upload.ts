import { z } from 'zod';
import { workflowInfo } from '@temporalio/workflow';
import { durationSchema, retrySchema, stepIdSchema, type RetrySpec } from '../spec/common';
import { durationToMs, type Duration } from '../spec/duration';
import { deviceActivities, escalationSchema, runDeviceAction, type EscalationSpec } from './device-action';
import type { BaseStep, StepKind } from './step-kind';

/**
 * Uploads a firmware image (usually `${steps.build.output.artifact}`) to a board through its
 * device worker, which verifies it (MD5, boot line). How to upload is the device's server-side
 * config; the spec only names the device and the artifact.
 */
export interface DeviceUploadStep extends BaseStep {
  kind: 'device_upload';
  /** Device id; optional inside a device_session (the session's device). */
  device?: string;
  artifact: string;
  /** Per-attempt limit; default: the device's upload timeout (300 s unless configured). */
  timeout?: Duration;
  retry?: RetrySpec;
  onUnreachable?: EscalationSpec;
}

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
