import { z } from 'zod';
import { ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import { errorMessage } from '../steps/errors';

export type Outcome<T> = { status: 'completed'; output: T } | { status: 'failed'; error: string };

/**
 * Runs `count` tasks, at most `limit` at a time, in a fixed pool of lanes (deterministic). A task
 * that fails is recorded and the others go on; cancellation is not a failure and is rethrown.
 */
export async function runBounded<T>(
  count: number,
  limit: number,
  task: (index: number) => Promise<T>,
): Promise<Array<Outcome<T>>> {
  const outcomes: Array<Outcome<T>> = new Array(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      try {
        outcomes[index] = { status: 'completed', output: await task(index) };
      } catch (err) {
        if (isCancellation(err)) throw err;
        outcomes[index] = { status: 'failed', error: errorMessage(err) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  return outcomes;
}

/**
 * Runs `count` tasks, at most `limit` at a time, in a fixed pool of lanes (deterministic). The
 * first task that fails cancels the others; once they have stopped, its error is thrown.
 */
export async function runFailFast<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await new CancellationScope().run(async () => {
    const running = Array.from({ length: Math.min(limit, count) }, lane);
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
}

export const countSchema = z.union([
  z.number().int().min(1).max(100),
  z.string().regex(/^\$\{[^}]+\}$/, 'a number or one expression'),
]);

/** A count that may come from an expression, such as `${inputs.subQuestions}`. */
export function countOf(value: unknown, field: string, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw ApplicationFailure.create({
      type: 'InvalidSpec',
      message: `${path}: ${field} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
      nonRetryable: true,
    });
  }
  return value;
}
