import { z } from 'zod';
import type { RunOptions } from '../../workflows/shared';
import { budgetSchema } from '../../workflows/llm/step-fields';
import { specSchema } from '../../workflows/spec/schema';
import { specNameSchema } from '../specs/spec-requests';
import { VISIBILITY_STATUS_ALIASES, VISIBILITY_STATUSES, type VisibilityStatus } from './run-status';

export const clientRunIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,100}$/, 'runId must be 1-100 letters, digits, ".", "_" or "-"');

export const runOptionsSchema: z.ZodType<RunOptions> = z.strictObject({
  maxOutputBytes: z.number().int().positive().optional(),
  continueAsNewAfterSteps: z.number().int().nonnegative().optional(),
  budget: budgetSchema.optional().meta({
    description:
      'Tokens and/or US dollars the run may spend on model calls before it waits for an approval (id "budget").',
  }),
});

const startRunFields = z.strictObject({
  // Parsed as unknown here; validateSpec checks it (schema and semantics) with paths under `spec`.
  spec: z.unknown().optional(),
  specName: specNameSchema.optional(),
  specVersion: z.number().int().min(1).optional(),
  inputs: z.record(z.string(), z.unknown()).optional(),
  runId: clientRunIdSchema.optional().meta({
    description: 'Client-chosen id; the same runId for the same spec always names the same run (idempotent start).',
  }),
  options: runOptionsSchema.optional(),
});

export const startRunBodySchema = startRunFields.superRefine((body, ctx) => {
  const hasSpec = body.spec !== undefined;
  if (hasSpec && body.specName !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['specName'], message: 'give either an inline spec or specName, not both' });
  } else if (!hasSpec && body.specName === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['spec'],
      message: 'give an inline spec or the specName of a registered spec',
    });
  }
  if (hasSpec && body.specVersion !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['specVersion'],
      message: 'specVersion picks a registered version: use it with specName',
    });
  }
});
export type StartRunBody = z.infer<typeof startRunBodySchema>;

/** What the OpenAPI document shows: the same body with `spec` typed as a Spec. */
export const startRunBodyDocSchema = startRunFields.extend({ spec: specSchema.optional() }).meta({
  description:
    'Give exactly one of spec (inline, run as is) or specName (registered; latest version unless specVersion).',
});

const statusFilter = z
  .enum([...VISIBILITY_STATUSES, ...(Object.keys(VISIBILITY_STATUS_ALIASES) as [string, ...string[]])])
  .transform((s): VisibilityStatus => VISIBILITY_STATUS_ALIASES[s] ?? (s as VisibilityStatus));

export const listRunsQuerySchema = z.strictObject({
  status: statusFilter.optional(),
  spec: specNameSchema.optional(),
  pageSize: z
    .string()
    .regex(/^\d{1,4}$/, 'must be an integer from 1 to 1000')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(1000, 'must be at most 1000'))
    .optional(),
  nextPageToken: z
    .string()
    .max(8192)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a nextPageToken returned by this endpoint')
    .optional(),
});
export type ListRunsQuery = z.infer<typeof listRunsQuerySchema>;

export const approvalBodySchema = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  by: z.string().trim().min(1, 'say who decides').max(200),
  comment: z.string().max(10_000).optional(),
  /** For approvals that offer choices, e.g. a device escalation's retry / skip / abort. */
  choice: z.string().min(1).max(100).optional(),
});
export type ApprovalBody = z.infer<typeof approvalBodySchema>;

export const stopRunBodySchema = z
  .strictObject({ reason: z.string().max(1000).optional() })
  .optional()
  .meta({ description: 'Optional; the reason is recorded in the run history.' });
export type StopRunBody = z.infer<typeof stopRunBodySchema>;

export const workflowIdParamSchema = z.string().min(1).max(1000);
export const stepIdParamSchema = z.string().min(1).max(1000);
