import { z } from 'zod';
import type { RunOptions } from '../../workflows/contracts/run';
import { budgetSchema } from '../../workflows/llm/step-fields';
import { DEFAULT_SPEC_LIMITS, specSchema, specVersionSchema } from '../../workflows/spec/schema';
import { checkNesting } from '../../workflows/spec/validate';
import { LIVE_PROGRESS_TIMEOUT_MS } from '../history/run-reader';
import { specNameSchema } from '../specs/spec-requests';
import { intQueryParam } from '../validation/query-params';
import { boundedText } from '../validation/text';
import { PAGE_TOKEN_PATTERN } from './page-token';
import { VISIBILITY_STATUS_ALIASES, VISIBILITY_STATUSES, type VisibilityStatus } from './run-status';

/**
 * No "." and no ":": a run's workflow id is `<spec>:<runId>` (spec names have no ":") and a
 * child run's is `<parent id>.<step path>`, so neither can ever equal another run's id.
 */
export const clientRunIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,100}$/, 'runId must be 1-100 letters, digits, "_" or "-"');

export const runOptionsSchema: z.ZodType<RunOptions> = z.strictObject({
  maxOutputBytes: z.number().int().positive().optional(),
  continueAsNewAfterSteps: z.number().int().nonnegative().optional(),
  maxInlineMapItems: z.number().int().min(1).max(1000).optional(),
  maxInlineAgents: z.number().int().min(1).max(100).optional(),
  maxInlineOutputBytes: z
    .number()
    .int()
    .min(1)
    .max(2 * 1024 * 1024)
    .optional(),
  maxInlineAgentTurns: z.number().int().min(1).max(1000).optional(),
  budget: budgetSchema.optional().meta({
    description:
      'Tokens and/or US dollars the run may spend on model calls before it waits for an approval (id "~budget").',
  }),
});

const runInputsSchema = z.record(z.string(), z.unknown()).superRefine((inputs, ctx) => {
  // Inputs travel as JSON through Temporal and the interpreter: bound their nesting like a spec's.
  const deep = checkNesting(inputs, DEFAULT_SPEC_LIMITS.maxNesting, 'inputs');
  if (deep) ctx.addIssue({ code: 'custom', message: `${deep.message}, at ${deep.path}` });
});

const runIdField = clientRunIdSchema.optional().meta({
  description:
    'Client-chosen id: the run is `<spec name>:<runId>`. The same runId with the same request returns the first run ' +
    '(200, created: false); with a different request it is a 409.',
});

const startRunFields = z.strictObject({
  // Parsed as unknown here; validateSpec checks it (schema and semantics) with paths under `spec`.
  spec: z.unknown().optional(),
  specName: specNameSchema.optional(),
  specVersion: specVersionSchema.optional(),
  inputs: runInputsSchema.optional(),
  runId: runIdField,
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

/** What the OpenAPI document shows: exactly one of an inline Spec or a registered spec's name. */
export const startRunBodyDocSchema = z
  .union([
    z.strictObject({
      spec: specSchema,
      inputs: startRunFields.shape.inputs,
      runId: runIdField,
      options: startRunFields.shape.options,
    }),
    z.strictObject({
      specName: specNameSchema,
      specVersion: startRunFields.shape.specVersion,
      inputs: startRunFields.shape.inputs,
      runId: runIdField,
      options: startRunFields.shape.options,
    }),
  ])
  .meta({
    description:
      'Exactly one of spec (inline, run as is) or specName (registered; its latest version unless specVersion).',
  });

const statusFilter = z
  .enum([...VISIBILITY_STATUSES, ...(Object.keys(VISIBILITY_STATUS_ALIASES) as [string, ...string[]])])
  .transform((s): VisibilityStatus => VISIBILITY_STATUS_ALIASES[s] ?? (s as VisibilityStatus));

export const listRunsQuerySchema = z.strictObject({
  status: statusFilter.optional(),
  spec: specNameSchema.optional(),
  pageSize: intQueryParam(1, 1000).optional(),
  nextPageToken: z.string().regex(PAGE_TOKEN_PATTERN, 'must be a nextPageToken returned by this endpoint').optional(),
});
export type ListRunsQuery = z.infer<typeof listRunsQuerySchema>;

export const getRunQuerySchema = z.strictObject({
  live: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .meta({
      description:
        "true: a running run's progress comes from its worker (the progress query: outputs, usage, budgets), if " +
        `it answers within ${LIVE_PROGRESS_TIMEOUT_MS} ms; otherwise, and for closed runs, from the history or ` +
        'result as without it.',
    }),
});
export type GetRunQuery = z.infer<typeof getRunQuerySchema>;

const decisionCommon = {
  // Named so a client that still sends it learns why it is refused (an unknown field says less).
  by: z
    .never({ error: 'the decider is the identity of the bearer token: remove "by"' })
    .optional()
    .meta({ description: 'Not accepted: who decides is taken from the bearer token.' }),
  comment: boundedText(10_000).optional(),
};

/** Deciding an approval. */
export const approvalDecisionBodySchema = z.strictObject({
  decision: z.enum(['approve', 'reject']).meta({ description: 'approve or reject an approval.' }),
  ...decisionCommon,
  /** For approvals that offer choices, e.g. a device escalation's retry / skip / abort. */
  choice: boundedText(100, { min: 1 }).optional(),
});

/**
 * The decide route's body: an approval's decision, or an answer to an input (a pending approval of
 * kind `input`): accept with its content, decline or cancel. Which one a step takes is the step's
 * kind; the wrong one for it is a 409.
 */
export const approvalBodySchema = z.discriminatedUnion('decision', [
  approvalDecisionBodySchema,
  z.strictObject({
    decision: z.literal('accept').meta({ description: 'Accept an input, with its answer.' }),
    content: z.record(z.string(), z.unknown(), { error: 'required to accept: the answer to the input' }).meta({
      description: "The input's answer, matching its requestedSchema (else 400 naming the field).",
    }),
    ...decisionCommon,
  }),
  z.strictObject({
    decision: z.enum(['decline', 'cancel']).meta({ description: 'Decline or cancel an input.' }),
    ...decisionCommon,
  }),
]);
export type ApprovalBody = z.infer<typeof approvalBodySchema>;
/** A decision as the service takes it from any channel (REST body, inbox page, signed link, MCP). */
export interface DecisionBody {
  decision: ApprovalBody['decision'];
  comment?: string;
  choice?: string;
  content?: Record<string, unknown>;
}

export const stopRunBodySchema = z
  .strictObject({ reason: boundedText(1000).optional() })
  .optional()
  .meta({ description: 'Optional; the reason is recorded in the run history.' });
export type StopRunBody = z.infer<typeof stopRunBodySchema>;

export const workflowIdParamSchema = boundedText(1000, { min: 1 });
export const stepIdParamSchema = boundedText(1000, { min: 1 });

/**
 * `Idempotency-Key` of an approval: the decision's Temporal update id, so a retried request gets
 * the first answer. Visible ASCII, as header values travel.
 */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7E]{1,200}$/, 'must be 1-200 visible ASCII characters')
  .optional();
