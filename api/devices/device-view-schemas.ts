/** The /devices response shapes as zod schemas, for the OpenAPI document (the types are in device-views.ts). */
import { z } from 'zod';

const actionOutcome = z.object({
  kind: z.enum(['upload', 'command']),
  status: z.enum(['completed', 'failed', 'skipped']),
  durationMs: z.number(),
  workflowId: z.string(),
  stepPath: z.string(),
  at: z.string(),
  error: z.string().optional(),
});

const waiter = z.object({
  requestId: z.string(),
  workflowId: z.string(),
  stepPath: z.string(),
  position: z.number().int(),
  enqueuedAt: z.string(),
});

export const deviceStatusViewSchema = z.object({
  id: z.string(),
  description: z.string().optional(),
  uploader: z.enum(['esp-serial', 'command', 'http-ota']),
  serialPath: z.string().optional(),
  otaUrl: z.string().optional(),
  taskQueue: z.string(),
  queue: z.object({
    length: z.number().int(),
    taskQueueBacklog: z.number().int().nullable(),
    waiting: z.array(waiter),
    pollers: z.number().int(),
  }),
  holder: z
    .object({
      workflowId: z.string(),
      stepPath: z.string(),
      token: z.number().int(),
      grantedAt: z.string(),
      leaseExpiresAt: z.string(),
    })
    .optional(),
  current: z
    .object({
      workflowId: z.string(),
      stepPath: z.string(),
      activity: z.string(),
      attempt: z.number().int(),
      progress: z.record(z.string(), z.unknown()).optional().meta({ description: 'From the last heartbeat.' }),
    })
    .optional(),
  lastResult: actionOutcome.optional(),
  metrics: z.object({
    uploads: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int(),
    successRate: z.number().nullable(),
    meanTimeToUploadMs: z.number().nullable(),
    leasesExpired: z.number().int(),
  }),
  lockError: z.string().optional(),
});

export const devicesResponseSchema = z.object({ devices: z.array(deviceStatusViewSchema) });
