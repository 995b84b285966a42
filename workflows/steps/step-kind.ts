import type { z } from 'zod';
import type { Condition, Step, Spec, BaseStep } from '../contracts/spec';
import type { FragmentInput, FragmentOutcome, RunOptions } from '../contracts/run';
import type { StepLedger } from '../llm/ledger';
import type { ApprovalDecision, ApprovalRequest } from '../approvals/approval-request';
import type { DeviceContext, DeviceSessionScope } from './device-scope';

/** Step lists nested inside a step, and how their ids are seen by later steps. */
export interface NestedSteps {
  lists: Step[][];
  /** true: inner ids are referenceable after the step (parallel, branch); false: per-item scope (map). */
  exported: boolean;
  /** Local names visible inside the lists (e.g. `item`, `index` in a map). */
  locals?: string[];
}

export interface FanOutOptions {
  perChild: number;
  /** Items running at once, over all children. */
  maxConcurrency: number;
  mode: FragmentInput['mode'];
}

/** What the interpreter gives a step kind while it runs. */
export interface StepContext {
  /** Progress path of this step, e.g. `fetch` or `each[2].fetch`. */
  readonly path: string;
  readonly options: Required<RunOptions>;
  readonly childSpecs: Record<string, Spec>;
  /** Resolves `${...}` expressions inside any JSON value in the current scope. */
  resolve(value: unknown): unknown;
  evaluate(condition: Condition): boolean;
  /**
   * Runs a nested list in this scope (parallel, branch): its step ids stay global. Returns the last
   * output. `session`: the device session whose holds the list's steps share (a device_session).
   */
  runSteps(steps: Step[], session?: DeviceSessionScope): Promise<unknown>;
  /** Every step nested in `steps`, at any depth (through each kind's nested lists). */
  descendants(steps: Step[]): Step[];
  /** The run's way to ask for devices, and the session whose holds this step shares, if any. */
  readonly devices: DeviceContext;
  /**
   * Runs a nested list in a fresh scope with extra locals (one `map` item); its steps' paths are
   * `<this path>[key].<id>`. Returns the last output.
   */
  runIsolated(steps: Step[], key: number, locals: Record<string, unknown>): Promise<unknown>;
  /**
   * Runs `steps` once per item as `runIsolated` would (keys 0, 1, …), in child workflows of
   * `perChild` items each, so a big fan-out grows no single history. Each child gets the run
   * inputs, outer locals and the records of the steps the items read, nothing else.
   */
  runInChildren(steps: Step[], items: Array<Record<string, unknown>>, opts: FanOutOptions): Promise<FragmentOutcome[]>;
  /**
   * Waits for a human decision on this step. `key` names one of several decisions a step can wait
   * for at once (e.g. an agent's tool calls): the approval id is then `<path>.<key>`.
   */
  requestApproval(request: ApprovalRequest, key?: string): Promise<ApprovalDecision>;
  /** The run's token and cost ledger as this step sees it: charges and budget gates. */
  readonly ledger: StepLedger;
  /** Shows live detail of this step in the progress query (e.g. an agent's turns). */
  report(progress: unknown): void;
  /**
   * patched() for a step kind's change: the interpreter answers the patches every run started
   * since has from the one marker the run records (interpreter.ts, RUN_PATCH), so a run records
   * no marker of its own for them.
   */
  isPatched(patchId: string): boolean;
}

/**
 * Returned (not thrown) by a step kind that ended without doing its work and without failing,
 * e.g. an upload to a board that stayed offline: the interpreter records the step as `skipped`
 * with `output` (later steps can test `${steps.<id>.status}`).
 */
export class StepSkipped {
  constructor(
    readonly reason: string,
    readonly output: Record<string, unknown> = {},
  ) {}
}

/** One module per step kind implements this; register it in `steps/index.ts`. */
export interface StepKind<S extends BaseStep = BaseStep> {
  kind: S['kind'];
  /** Zod schema of the step; `step` is the schema of any step, for nested lists. */
  schema(step: z.ZodType<Step>): z.ZodType<S>;
  nested?(step: S): NestedSteps;
  /** Model names (or expressions) the step calls; the API checks them against the models config at submit. */
  models?(step: S): string[];
  run(step: S, ctx: StepContext): Promise<unknown>;
  /**
   * `run` without a promise of its own: starts the work and returns its promise (or throws). The
   * interpreter calls it instead of `run` in runs that record its RUN_PATCH; `run` stays
   * `async (step, ctx) => start(step, ctx)`, so older runs replay tick for tick.
   */
  start?(step: S, ctx: StepContext): Promise<unknown>;
}
