import { z } from 'zod';
import { sleep } from '@temporalio/workflow';
import { durationSchema, durationToMs } from '../contracts/duration';
import { stepIdSchema } from '../spec/common';
import type { SleepStep } from '../contracts/spec';
import type { StepKind } from './step-kind';

export const sleepKind: StepKind<SleepStep> = {
  kind: 'sleep',
  schema: () =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('sleep'),
      name: z.string().optional(),
      duration: durationSchema,
    }),
  async run(step, ctx) {
    const ms = durationToMs(step.duration);
    // The summary names the step on the timer in the Web UI.
    await sleep(ms, { summary: ctx.path });
    return { sleptMs: ms };
  },
};
