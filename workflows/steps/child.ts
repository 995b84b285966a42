import { z } from 'zod';
import { ApplicationFailure, ChildWorkflowFailure, executeChild, patched, workflowInfo } from '@temporalio/workflow';
import { stepIdSchema } from '../spec/common';
import { childUsage } from '../llm/ledger';
import { RUN_SPEC_WORKFLOW, SPEC_NAME_ATTRIBUTE, type RunInput, type RunResult } from '../contracts/run';
import type { ChildStep } from '../contracts/spec';
import type { StepContext, StepKind } from './step-kind';

/**
 * Runs before it: a child got a fresh copy of the parent's run budget and its spend was never
 * charged back. Recorded histories without this marker replay the old way.
 */
export const CHILD_BUDGET_PATCH = 'child-draws-on-parent-budget';

/** Charges what a failed child spent (its failure carries it) before the failure goes on. */
function chargeFailedChild(err: unknown, ctx: StepContext): void {
  if (!(err instanceof ChildWorkflowFailure) || !(err.cause instanceof ApplicationFailure)) return;
  const spent = childUsage(err.cause.details);
  if (spent) ctx.ledger.charge(spent);
}

export const childKind: StepKind<ChildStep> = {
  kind: 'child',
  schema: () =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('child'),
      name: z.string().optional(),
      spec: z.string().min(1),
      inputs: z.record(z.string(), z.unknown()).optional(),
    }),
  async run(step, ctx) {
    const spec = ctx.childSpecs[step.spec];
    if (!spec) {
      throw ApplicationFailure.create({
        type: 'InvalidSpec',
        message: `child step "${ctx.path}": spec "${step.spec}" was not resolved when the run was submitted`,
        nonRetryable: true,
      });
    }
    const inputs = ctx.resolve(step.inputs ?? {}) as Record<string, unknown>;
    const draws = patched(CHILD_BUDGET_PATCH);
    if (draws) await ctx.ledger.gate();
    const input: RunInput = {
      spec,
      inputs,
      childSpecs: ctx.childSpecs,
      // The child's run budget is what the budgets covering this step have left; when the child
      // uses it up, it asks for its own `budget` approval, like any run.
      options: draws ? { ...ctx.options, budget: ctx.ledger.remaining() } : ctx.options,
    };
    try {
      const result = await executeChild<(input: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
        args: [input],
        workflowId: `${workflowInfo().workflowId}.${ctx.path}`,
        staticSummary: `${spec.name} (child of step ${ctx.path})`,
        typedSearchAttributes: [{ key: SPEC_NAME_ATTRIBUTE, value: spec.name }],
      });
      const spent = draws ? childUsage(result) : undefined;
      if (spent) ctx.ledger.charge(spent);
      return result.output;
    } catch (err) {
      if (draws) chargeFailedChild(err, ctx);
      throw err;
    }
  },
};
