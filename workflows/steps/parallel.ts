import { z } from 'zod';
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import { stepIdSchema } from '../spec/common';
import type { ParallelStep } from '../contracts/spec';
import type { StepKind } from './step-kind';
import { errorMessage } from './errors';

type BranchResult = { status: 'completed'; output: unknown } | { status: 'failed'; error: string };

export const parallelKind: StepKind<ParallelStep> = {
  kind: 'parallel',
  schema: (step) =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('parallel'),
      name: z.string().optional(),
      branches: z.array(z.array(step).min(1)).min(1),
      mode: z.enum(['failFast', 'collectAll']).optional(),
    }),
  nested: (step) => ({ lists: step.branches, exported: true }),
  async run(step, ctx) {
    if (step.mode === 'collectAll') {
      const settled = await Promise.allSettled(step.branches.map((b) => ctx.runSteps(b)));
      const branches: BranchResult[] = settled.map((s) => {
        if (s.status === 'fulfilled') return { status: 'completed', output: s.value };
        if (isCancellation(s.reason)) throw s.reason;
        return { status: 'failed', error: errorMessage(s.reason) };
      });
      return { branches };
    }
    // failFast: a failing branch cancels its siblings; wait for them to stop so progress is exact.
    const outputs = await new CancellationScope().run(async () => {
      const running = step.branches.map((b) => ctx.runSteps(b));
      try {
        return await Promise.all(running);
      } catch (err) {
        CancellationScope.current().cancel();
        await Promise.allSettled(running);
        throw err;
      }
    });
    return { branches: outputs.map((output): BranchResult => ({ status: 'completed', output })) };
  },
};
