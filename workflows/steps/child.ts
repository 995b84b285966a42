import { z } from 'zod';
import { ApplicationFailure, executeChild, workflowInfo } from '@temporalio/workflow';
import { stepIdSchema } from '../spec/common';
import { RUN_SPEC_WORKFLOW, SPEC_NAME_ATTRIBUTE, type RunInput, type RunResult } from '../shared';
import type { BaseStep, StepKind } from './step-kind';

/** Runs another registered spec as a child workflow; its output is the child run's output. */
export interface ChildStep extends BaseStep {
  kind: 'child';
  spec: string;
  inputs?: Record<string, unknown>;
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
    const input: RunInput = {
      spec,
      inputs: ctx.resolve(step.inputs ?? {}) as Record<string, unknown>,
      childSpecs: ctx.childSpecs,
      options: ctx.options,
    };
    const result = await executeChild<(input: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
      args: [input],
      workflowId: `${workflowInfo().workflowId}.${ctx.path}`,
      staticSummary: `${spec.name} (child of step ${ctx.path})`,
      typedSearchAttributes: [{ key: SPEC_NAME_ATTRIBUTE, value: spec.name }],
    });
    return result.output;
  },
};
