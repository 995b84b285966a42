/**
 * Reading the `pendingApprovals` memo a run keeps current (workflows/interpreter.ts): what the
 * inbox lists without asking a worker. A malformed entry is skipped, never a 500: memos of runs
 * from other code versions may differ.
 */
import { defaultPayloadConverter } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import { PENDING_APPROVALS_MEMO, type PendingApproval } from '../../workflows/contracts/run';

const pendingApprovalSchema = z.object({
  stepId: z.string().min(1),
  prompt: z.string().optional(),
  approvers: z.array(z.string()).optional(),
  requestedAt: z.string(),
  timeoutAt: z.string().optional(),
  onTimeout: z.enum(['approve', 'reject']).catch('reject'),
  choices: z.array(z.string()).optional(),
  escalatedAt: z.string().optional(),
  kind: z.literal('input').optional().catch(undefined),
  requestedSchema: z.record(z.string(), z.unknown()).optional().catch(undefined),
  server: z.string().optional().catch(undefined),
});

/** The pending approvals in a decoded memo value. */
export function pendingApprovalsOf(value: unknown): PendingApproval[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry) => {
    const parsed = pendingApprovalSchema.safeParse(entry);
    return parsed.success ? [parsed.data as PendingApproval] : [];
  });
}

/** The same, from the raw memo fields of a visibility listing. */
export function pendingApprovalsOfFields(fields: Record<string, Payload> | null | undefined): PendingApproval[] {
  const payload = fields?.[PENDING_APPROVALS_MEMO];
  if (!payload) return [];
  try {
    return pendingApprovalsOf(defaultPayloadConverter.fromPayload<unknown>(payload));
  } catch {
    return [];
  }
}

/** A string search attribute from the raw indexed fields of a visibility listing. */
export function keywordOf(fields: Record<string, Payload> | null | undefined, name: string): string | null {
  const payload = fields?.[name];
  if (!payload) return null;
  try {
    const value = defaultPayloadConverter.fromPayload<unknown>(payload);
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}
