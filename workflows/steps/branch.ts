import { z } from 'zod';
import { conditionSchema, type Condition } from '../spec/condition';
import { stepIdSchema } from '../spec/common';
import type { Step } from '../spec/types';
import type { BaseStep, StepKind } from './step-kind';

/** Runs the steps of the first case whose condition holds, else `otherwise` (if any). */
export interface BranchStep extends BaseStep {
  kind: 'branch';
  cases: Array<{ when: Condition; steps: Step[] }>;
  otherwise?: Step[];
}

export const branchKind: StepKind<BranchStep> = {
  kind: 'branch',
  schema: (step) =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('branch'),
      name: z.string().optional(),
      cases: z.array(z.strictObject({ when: conditionSchema, steps: z.array(step).min(1) })).min(1),
      otherwise: z.array(step).min(1).optional(),
    }),
  nested: (step) => ({
    lists: [...step.cases.map((c) => c.steps), ...(step.otherwise ? [step.otherwise] : [])],
    exported: true,
  }),
  async run(step, ctx) {
    const index = step.cases.findIndex((c) => ctx.evaluate(c.when));
    if (index >= 0) return { taken: index, output: await ctx.runSteps(step.cases[index]!.steps) };
    if (step.otherwise) return { taken: 'otherwise', output: await ctx.runSteps(step.otherwise) };
    return { taken: null, output: null };
  },
};
