import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/workflow';
import { durationSchema, durationToMs } from '../contracts/duration';
import { stepIdSchema } from '../spec/common';
import type { ApprovalResult } from '../contracts/run';
import type { ApprovalStep } from '../contracts/spec';
import type { StepKind } from './step-kind';

/** The update validator's answer to a decision on an approval that already has one. */
export function alreadyDecided(earlier: ApprovalResult): ApplicationFailure {
  const { stepId, decision, by, at } = earlier;
  return ApplicationFailure.create({
    type: 'AlreadyDecided',
    message: `step "${stepId}" was already decided: ${decision} by ${by} at ${at}`,
    nonRetryable: true,
    details: [{ stepId, decision, by, at }],
  });
}

/**
 * The update validator's other refusals: `NotWaiting` (no such approval pending), `InvalidDecision`,
 * `NotAnApprover` (the decider is not among the approval's approvers), `LinkUsed` (a signed link's
 * nonce the run has accepted before).
 */
export function refusal(
  type: 'NotWaiting' | 'InvalidDecision' | 'NotAnApprover' | 'LinkUsed',
  message: string,
  details?: unknown[],
): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, ...(details && { details }) });
}

/** Approver entries: a user id or group, `user:<id>` or `group:<name>` (workflows/contracts/identity.ts). */
const approversSchema = z.array(z.string().min(1).max(200)).max(100);

const ESCALATE_DESCRIPTION =
  'When `timeout` passes with no decision, the approval escalates instead of taking `onTimeout` at once: ' +
  "these approvers may decide too (besides the step's own), an approval.escalated event goes to webhooks, " +
  'and a second timer of `timeout` (this one) starts; when it passes undecided, `onTimeout` applies. ' +
  "Needs the step's `timeout`.";

export const approvalKind: StepKind<ApprovalStep> = {
  kind: 'approval',
  schema: () =>
    z
      .strictObject({
        id: stepIdSchema,
        kind: z.literal('approval'),
        name: z.string().optional(),
        prompt: z.string().optional(),
        approvers: approversSchema.optional().meta({
          description:
            'Who may decide: user ids or groups (`user:ana`, `group:ops`, or a bare name for either). None: anyone with the approver role.',
        }),
        timeout: durationSchema.optional(),
        onTimeout: z.enum(['approve', 'reject']).optional(),
        onReject: z.enum(['fail', 'continue']).optional(),
        escalate: z
          .strictObject({ approvers: approversSchema.min(1), timeout: durationSchema })
          .optional()
          .meta({ description: ESCALATE_DESCRIPTION }),
      })
      .superRefine((step, check) => {
        if (step.escalate && step.timeout === undefined) {
          check.addIssue({
            code: 'custom',
            path: ['escalate'],
            message: "escalate needs the step's timeout: it starts when that timeout passes undecided",
          });
        }
      })
      .meta({
        description:
          'Waits for a person to approve or reject (REST API, inbox page, signed link or `approve` signal). ' +
          'timeout → optional escalate (more approvers, a notification, a second timeout) → onTimeout.',
      }),
  async run(step, ctx) {
    const decision = await ctx.requestApproval({
      prompt: step.prompt === undefined ? undefined : String(ctx.resolve(step.prompt)),
      approvers: step.approvers,
      timeoutMs: step.timeout === undefined ? undefined : durationToMs(step.timeout),
      onTimeout: step.onTimeout ?? 'reject',
      ...(step.escalate && {
        escalate: { approvers: step.escalate.approvers, timeoutMs: durationToMs(step.escalate.timeout) },
      }),
    });
    if (decision.decision === 'reject' && (step.onReject ?? 'fail') === 'fail') {
      const why = decision.timedOut ? 'timed out (default: reject)' : `rejected by ${decision.by}`;
      const comment = decision.comment ? `: ${decision.comment}` : '';
      throw ApplicationFailure.create({ type: 'ApprovalRejected', message: `${why}${comment}`, nonRetryable: true });
    }
    return { approved: decision.decision === 'approve', ...decision };
  },
};
