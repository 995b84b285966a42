import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/workflow';
import { durationSchema, stepIdSchema } from '../spec/common';
import { durationToMs, type Duration } from '../spec/duration';
import type { BaseStep, StepKind } from './step-kind';

/** Waits for a human to approve or reject; an optional timeout applies a default decision. */
export interface ApprovalStep extends BaseStep {
  kind: 'approval';
  prompt?: string;
  approvers?: string[];
  timeout?: Duration;
  /** Decision applied when the timeout passes with no answer. Default: reject. */
  onTimeout?: 'approve' | 'reject';
  /** What a rejection does: fail the run (default) or continue with `approved: false`. */
  onReject?: 'fail' | 'continue';
}

export const approvalKind: StepKind<ApprovalStep> = {
  kind: 'approval',
  schema: () =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('approval'),
      name: z.string().optional(),
      prompt: z.string().optional(),
      approvers: z.array(z.string().min(1)).optional(),
      timeout: durationSchema.optional(),
      onTimeout: z.enum(['approve', 'reject']).optional(),
      onReject: z.enum(['fail', 'continue']).optional(),
    }),
  async run(step, ctx) {
    const decision = await ctx.requestApproval({
      prompt: step.prompt === undefined ? undefined : String(ctx.resolve(step.prompt)),
      approvers: step.approvers,
      timeoutMs: step.timeout === undefined ? undefined : durationToMs(step.timeout),
      onTimeout: step.onTimeout ?? 'reject',
    });
    if (decision.decision === 'reject' && (step.onReject ?? 'fail') === 'fail') {
      const why = decision.timedOut ? 'timed out (default: reject)' : `rejected by ${decision.by}`;
      const comment = decision.comment ? `: ${decision.comment}` : '';
      throw ApplicationFailure.create({ type: 'ApprovalRejected', message: `${why}${comment}`, nonRetryable: true });
    }
    return { approved: decision.decision === 'approve', ...decision };
  },
};
