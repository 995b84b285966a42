import { z } from 'zod';
import { ApplicationFailure, CancellationScope } from '@temporalio/workflow';
import { stepIdSchema } from '../spec/common';
import type { MapStep } from '../contracts/spec';
import type { StepKind } from './step-kind';

export const DEFAULT_MAP_CONCURRENCY = 4;
/** Runs before it ran every item in the run's own history, however many. */
export const MAP_IN_CHILDREN_PATCH = 'map-items-in-child-workflows';

export const mapKind: StepKind<MapStep> = {
  kind: 'map',
  schema: (step) =>
    z.strictObject({
      id: stepIdSchema,
      kind: z.literal('map'),
      name: z.string().optional(),
      items: z.union([z.string(), z.array(z.unknown())]),
      maxConcurrency: z.number().int().min(1).max(1000).optional(),
      steps: z.array(step).min(1),
    }),
  nested: (step) => ({ lists: [step.steps], exported: false, locals: ['item', 'index'] }),
  async run(step, ctx) {
    const items = ctx.resolve(step.items);
    if (!Array.isArray(items)) {
      throw ApplicationFailure.create({
        type: 'InvalidSpec',
        message: `map "${ctx.path}": items must resolve to a list, got ${typeof items}`,
        nonRetryable: true,
      });
    }
    const limit = step.maxConcurrency ?? DEFAULT_MAP_CONCURRENCY;
    const perChild = ctx.options.maxInlineMapItems;
    // Items inside a device_session share its holds, which a child workflow cannot: they run here.
    if (items.length > perChild && !ctx.devices.session && ctx.isPatched(MAP_IN_CHILDREN_PATCH)) {
      const locals = items.map((item, index) => ({ item, index }));
      const outcomes = await ctx.runInChildren(step.steps, locals, {
        perChild,
        maxConcurrency: limit,
        mode: 'failFast',
      });
      // failFast: a failing item failed the step, so every outcome here completed.
      return outcomes.map((o) => (o.status === 'completed' ? o.output : null));
    }
    // The same lanes as runFailFast, written out: older histories replay these exact awaits.
    const results: unknown[] = new Array(items.length);
    let next = 0;
    let failed = false;
    // A fixed pool of lanes, each taking the next item: deterministic, and never more than the cap.
    const lane = async (): Promise<void> => {
      while (!failed && next < items.length) {
        const index = next++;
        results[index] = await ctx.runIsolated(step.steps, index, { item: items[index], index });
      }
    };
    const lanes = Math.min(limit, items.length);
    await new CancellationScope().run(async () => {
      const running = Array.from({ length: lanes }, lane);
      try {
        await Promise.all(running);
      } catch (err) {
        failed = true;
        CancellationScope.current().cancel();
        await Promise.allSettled(running);
        throw err;
      }
    });
    return results;
  },
};
