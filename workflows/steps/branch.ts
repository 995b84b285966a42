import { z } from 'zod';
import { conditionSchema } from '../spec/condition';
import type { BranchStep } from '../contracts/spec';
import { stepIdSchema } from '../spec/common';
import type { StepKind } from './step-kind';

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
