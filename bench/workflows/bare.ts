/**
 * The hand-written baseline for bench/interpreter-vs-bare.ts: what a developer would write in
 * plain Temporal for the same work as a spec run, calling the same registered activity with the
 * activity step's defaults (60 s start-to-close, 3 attempts). Bench-only: never in the product's
 * bundle.
 */
import { proxyActivities } from '@temporalio/workflow';

export interface BareInput {
  /** The registered activity type, e.g. "spec.test.echo" (what the interpreter schedules). */
  activity: string;
  count: number;
}

function activity(type: string): (args: unknown) => Promise<unknown> {
  const acts = proxyActivities<Record<string, (args: unknown) => Promise<unknown>>>({
    startToCloseTimeout: 60_000,
    retry: { maximumAttempts: 3 },
  });
  return acts[type]!;
}

/** `count` calls, one after another. */
export async function bareSequential(input: BareInput): Promise<unknown[]> {
  const call = activity(input.activity);
  const outputs: unknown[] = [];
  for (let i = 0; i < input.count; i++) outputs.push(await call({}));
  return outputs;
}

/** `count` calls at once. */
export async function bareParallel(input: BareInput): Promise<unknown[]> {
  const call = activity(input.activity);
  return Promise.all(Array.from({ length: input.count }, () => call({})));
}
