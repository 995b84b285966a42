import { z } from 'zod';
import { sleep } from '@temporalio/workflow';
import { durationSchema, stepIdSchema } from '../spec/common';
import { durationToMs, type Duration } from '../spec/duration';
import type { BaseStep, StepKind } from './step-kind';

/** A durable timer: survives worker and server restarts, costs nothing while it waits. */
export interface SleepStep extends BaseStep {
  kind: 'sleep';
  duration: Duration;
}

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
