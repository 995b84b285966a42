import { z } from 'zod';
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import { stepIdSchema } from '../spec/common';
import type { Step } from '../spec/types';
import type { BaseStep, StepKind } from './step-kind';
import { errorMessage } from './errors';

/**
 * Branches run concurrently. `failFast` (default): the first failure cancels the other branches
 * and fails the step. `collectAll`: every branch runs to its end; the step succeeds and its output
 * lists each branch's status, output or error.
 */
export interface ParallelStep extends BaseStep {
  kind: 'parallel';
  branches: Step[][];
  mode?: 'failFast' | 'collectAll';
}

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
