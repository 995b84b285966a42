/**
 * Big fan-outs as child workflows: the items of a `map` (or the researchers of `research`) run in
 * child `runSpec` runs of `perChild` items each, so every history stays bounded however long the
 * list. A child's id is the parent's id, the step path and its slice (`<id>.each[100-199]`):
 * readable in the Web UI, and unique because step paths are.
 */
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  executeChild,
  isCancellation,
  workflowInfo,
} from '@temporalio/workflow';
import { childUsage, type StepLedger } from './llm/ledger';
import { runBounded, runFailFast } from './orchestrations/bounded';
import {
  RUN_SPEC_WORKFLOW,
  type FragmentInput,
  type FragmentOutcome,
  type RunInput,
  type RunOptions,
  type RunResult,
  type StepRecord,
} from './contracts/run';
import type { Spec, Step } from './contracts/spec';
import { errorMessage } from './steps/errors';
import type { FanOutOptions } from './steps/step-kind';

/**
 * Items one child runs at once, at most. The completions of more pile up while a workflow task
 * runs, past the server's buffer (100 events), which then force-closes the task to flush them.
 */
export const MAX_IN_FLIGHT_PER_CHILD = 32;

export interface FanOut {
  /** Path of the step that fans out. */
  path: string;
  spec: Pick<Spec, 'name' | 'version'>;
  steps: Step[];
  items: Array<Record<string, unknown>>;
  /** Only what the items read: run inputs, outer locals, step records. */
  inputs: Record<string, unknown>;
  locals: Record<string, unknown>;
  scope: Record<string, StepRecord>;
  childSpecs: Record<string, Spec>;
  options: Required<RunOptions>;
  ledger: StepLedger;
  report(progress: unknown): void;
}

/** Drops the spend a failed child attached to its failure: this run charges it, and attaches its own. */
function withoutRunUsage(details: unknown[] | undefined | null): unknown[] {
  return (details ?? []).filter((d) => !(d !== null && typeof d === 'object' && 'runUsage' in d));
}

/** An item's step failure inside a child, as the parent would have raised it running the item itself. */
function asItemFailure(err: unknown): unknown {
  if (!(err instanceof ChildWorkflowFailure)) return err;
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== 'StepFailed') return err;
  return ApplicationFailure.create({
    type: cause.type,
    message: cause.message,
    nonRetryable: true,
    cause: cause.cause,
    details: withoutRunUsage(cause.details),
  });
}

export async function runInChildren(f: FanOut, opts: FanOutOptions): Promise<FragmentOutcome[]> {
  const n = f.items.length;
  const perChild = Math.max(1, Math.floor(opts.perChild));
  const chunks = Math.ceil(n / perChild);
  // Items in flight stay within maxConcurrency over all children: each child runs `inChild` at once.
  const inChild = Math.max(1, Math.min(opts.maxConcurrency, perChild, MAX_IN_FLIGHT_PER_CHILD));
  const childrenAtOnce = Math.max(1, Math.floor(opts.maxConcurrency / inChild));
  const outcomes: FragmentOutcome[] = new Array(n);
  let done = 0;
  const report = () =>
    f.report({ items: n, childWorkflows: chunks, childWorkflowsDone: done, itemsPerChild: perChild });
  report();

  const runChunk = async (c: number): Promise<void> => {
    const from = c * perChild;
    const to = Math.min(n, from + perChild);
    const slice = `${f.path}[${from}-${to - 1}]`;
    const fragment: FragmentInput = {
      path: f.path,
      from,
      items: f.items.slice(from, to),
      locals: f.locals,
      scope: f.scope,
      maxConcurrency: inChild,
      mode: opts.mode,
    };
    const childInput = (): RunInput => ({
      spec: { name: f.spec.name, version: f.spec.version, steps: f.steps },
      inputs: f.inputs,
      childSpecs: f.childSpecs,
      // Like a `child` step: the children draw on what the budgets covering this step have left.
      options: { ...f.options, budget: f.ledger.remaining() },
      fragment,
    });
    try {
      await f.ledger.gate();
      const result = await executeChild<(input: RunInput) => Promise<RunResult>>(RUN_SPEC_WORKFLOW, {
        args: [childInput()],
        workflowId: `${workflowInfo().workflowId}.${slice}`,
        staticSummary: `${f.spec.name}: ${slice} (${to - from} of ${n} items of step ${f.path})`,
      });
      const spent = childUsage(result);
      if (spent) f.ledger.charge(spent);
      (result.output as FragmentOutcome[]).forEach((o, j) => (outcomes[from + j] = o));
    } catch (err) {
      if (err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure) {
        const spent = childUsage(err.cause.details);
        if (spent) f.ledger.charge(spent);
      }
      if (opts.mode === 'failFast' || isCancellation(err)) throw asItemFailure(err);
      // A collecting child reports item failures as outcomes; failing as a whole, it fails each of its items.
      for (let k = from; k < to; k++) outcomes[k] = { status: 'failed', error: errorMessage(err) };
    }
    done++;
    report();
  };

  if (opts.mode === 'failFast') await runFailFast(chunks, childrenAtOnce, runChunk);
  else await runBounded(chunks, childrenAtOnce, runChunk);
  return outcomes;
}
