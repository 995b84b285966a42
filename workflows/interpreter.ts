/**
 * The spec interpreter: one workflow type that runs any validated spec. Deterministic by
 * construction — every side effect is an activity or a child workflow, time comes from the
 * workflow clock, and state lives only in local variables that replay rebuilds.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  DEFAULT_RUN_OPTIONS,
  progressQuery,
  type FragmentOutcome,
  type RunInput,
  type RunPhase,
  type RunProgress,
  type RunResult,
  type StepRecord,
} from './contracts/run';
import type { Spec, Step } from './contracts/spec';
import { loadBlob, storeBlob } from './blobs';
import { carryRecords, needsAfter, needsOf, shownRecord, utf8Length } from './carry';
import { runInChildren } from './fan-out';
import { runBounded, runFailFast } from './orchestrations/bounded';
import { evaluateCondition } from './spec/condition';
import { ExpressionError, resolveValue, walkPath, type Reference } from './spec/expressions';
import { validateInputs, validateSpecOnce } from './spec/validate';
import { Ledger } from './llm/ledger';
import { errorMessage, specDataFailure, type DataSite } from './steps/errors';
import { stepKindOf } from './steps';
import { RunDeviceRequests } from './steps/device-access';
import type { DeviceContext } from './steps/device-scope';
import { StepSkipped, type StepContext } from './steps/step-kind';
import type { ApprovalDecision, ApprovalRequest } from './approvals/approval-request';
import { ApprovalDesk } from './approvals/approval-desk';
import { RunNotices } from './approvals/run-notices';
import { listenForClientRequests } from './approvals/client-requests';
import { SPEC_ACTIVITY_PATCH } from './steps/activity';
import { MAP_IN_CHILDREN_PATCH } from './steps/map';
import { recordStepDuration } from './step-metrics';

/** Names visible to expressions: step records by id, and locals such as a map's `item`. */
class Scope {
  readonly steps = new Map<string, StepRecord>();
  constructor(
    readonly inputs: Record<string, unknown>,
    readonly parent?: Scope,
    readonly locals: Record<string, unknown> = {},
  ) {}

  findStep(id: string): StepRecord | undefined {
    return this.steps.get(id) ?? this.parent?.findStep(id);
  }

  findLocal(name: string): { value: unknown } | undefined {
    if (Object.prototype.hasOwnProperty.call(this.locals, name)) return { value: this.locals[name] };
    return this.parent?.findLocal(name);
  }
}

function invalid(type: string, what: string, issues: Array<{ path: string; message: string }>): ApplicationFailure {
  const list = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  return ApplicationFailure.create({ type, message: `${what}: ${list}`, nonRetryable: true, details: [issues] });
}

/**
 * Marks a run whose spec and inputs passed the checks when it started. A replay that finds the
 * marker trusts that and checks nothing again, so a rule made stricter since (a new worker
 * version) never fails a run already under way. Histories without it replay the old way.
 */
export const ADMITTED_PATCH = 'spec-checked-at-start';
/** Continue-as-new carries only what later steps read, big outputs as blob references (carry.ts). */
export const BOUNDED_CARRY_PATCH = 'bounded-continue-as-new';
/**
 * One marker standing for every patch below, which all runs started since have: a new run
 * records it at admission instead of a marker (and a TemporalChangeVersion upsert, two events)
 * per patch. A run that skips admission (a continued run, a fan-out's child) records it at its
 * first step. Histories without it ask for each patch as before. A patch added later is never on
 * this list: runs holding this marker were recorded without it. It also guards the lean step
 * (runStep, runList: fewer promises, so other microtask timing than older runs had).
 */
export const RUN_PATCH = 'spec-run-patches-2026-12';
const COVERED_BY_RUN_PATCH: ReadonlySet<string> = new Set([
  ADMITTED_PATCH,
  BOUNDED_CARRY_PATCH,
  SPEC_ACTIVITY_PATCH,
  MAP_IN_CHILDREN_PATCH,
]);

/** patched(), answered by RUN_PATCH for the patches it covers. */
function isPatched(patchId: string): boolean {
  return COVERED_BY_RUN_PATCH.has(patchId) ? patched(RUN_PATCH) || patched(patchId) : patched(patchId);
}

/** The run inputs with declared defaults filled in, as the check at start produced them. */
function withDefaults(spec: Spec, given: Record<string, unknown> = {}): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(spec.inputs ?? {})) {
    const value = given[name] ?? decl.default;
    if (value !== undefined) inputs[name] = value;
  }
  return inputs;
}

/** The spec and checked inputs to run, or a typed failure naming every problem. */
function admit(input: RunInput): { spec: Spec; inputs: Record<string, unknown> } {
  // Built by this interpreter from a checked spec: a continued chain, or a fan-out's child.
  if (input.fragment || input.resume?.checked) return { spec: input.spec, inputs: input.inputs ?? {} };
  if (workflowInfo().unsafe.isReplaying && isPatched(ADMITTED_PATCH)) {
    return { spec: input.spec, inputs: withDefaults(input.spec, input.inputs) };
  }
  const checked = validateSpecOnce(input.spec);
  if (!checked.ok) throw invalid('InvalidSpec', `spec "${input.spec?.name}" is invalid`, checked.issues);
  const spec = checked.spec;
  const checkedInputs = validateInputs(spec, input.inputs ?? {});
  if (!checkedInputs.ok)
    throw invalid('InvalidInput', `inputs for spec "${spec.name}" are invalid`, checkedInputs.issues);
  // Only a run that passed records the marker (a failed check fails the same way on replay).
  isPatched(ADMITTED_PATCH);
  return { spec, inputs: checkedInputs.inputs };
}

export async function runSpec(input: RunInput): Promise<RunResult> {
  const { spec, inputs: checkedInputs } = admit(input);
  const options = { ...DEFAULT_RUN_OPTIONS, ...input.options };
  const childSpecs = input.childSpecs ?? {};

  const records = new Map<string, StepRecord>(Object.entries(input.resume?.steps ?? {}));
  const notices = new RunNotices(options.webhooks);
  const desk = new ApprovalDesk(notices, input.resume?.usedNonces);
  let phase: RunPhase = 'running';
  const top = new Scope(checkedInputs);
  /** Carried records whose output is in the blob store and not loaded yet. */
  const unloaded = new Set<StepRecord>();
  const loading = new Map<StepRecord, Promise<void>>();
  const carry = (id: string, rec: StepRecord) => {
    top.steps.set(id, rec);
    if (rec.outputRef && !('output' in rec)) unloaded.add(rec);
  };
  // Records carried over from an earlier run of this chain are visible to expressions again.
  for (const [path, rec] of records) if (!path.includes('[')) carry(path, rec);
  // A fan-out's child sees the parent's steps its items read, and nothing else of the parent.
  for (const [id, rec] of Object.entries(input.fragment?.scope ?? {})) carry(id, rec);

  setHandler(progressQuery, (): RunProgress => {
    const all = [...records.entries()];
    return {
      spec: { name: spec.name, version: spec.version },
      phase: phase === 'running' && desk.waiting ? 'waiting_approval' : phase,
      current: all.filter(([, r]) => r.status === 'running' || r.status === 'waiting').map(([p]) => p),
      steps: Object.fromEntries(all.map(([path, rec]) => [path, shownRecord(rec)])),
      pendingApprovals: desk.pendingApprovals(),
      refusedDecisions: desk.refusedDecisions(),
      generation: input.resume?.generation ?? 0,
      usage: ledger.summary(),
    };
  });

  desk.listen();
  /** The run's device requests; a device_session hands its holds down to its steps. */
  const runDevices: DeviceContext = { requests: new RunDeviceRequests() };
  /** A run of its own (not a fan-out's child, not a child step's run) tells subscribers it started and ended. */
  const ownRun = !input.fragment && workflowInfo().parent === undefined;
  if (ownRun && !input.resume) notices.emit('run.started', { spec: { name: spec.name, version: spec.version } });
  /** Only with subscriptions: without any, the run's end awaits nothing more than it did before webhooks. */
  const announceEnd = async (status: 'completed' | 'failed' | 'cancelled', err?: unknown): Promise<void> => {
    if (ownRun) notices.emit('run.finished', { status, ...(err !== undefined && { error: errorMessage(err) }) });
    await notices.settle();
  };

  /** `id` names the decision (the step's path, or a sub-decision of it); `path` is the step that waits. */
  const requestApproval = (path: string, req: ApprovalRequest, id = path): Promise<ApprovalDecision> =>
    desk.request(req, id, path, records.get(path));

  const ledger = new Ledger({
    budget: options.budget,
    carried: input.resume?.ledger,
    requestApproval,
    onCharge: (path, usage) => {
      const record = records.get(path);
      if (record) record.usage = usage;
    },
  });
  listenForClientRequests({
    requestApproval,
    ledgerFor: (path) => ledger.forStep(path),
    isRunning: (path) => ['running', 'waiting'].includes(records.get(path)?.status ?? ''),
  });

  /** A reference's value in `scope`; names nothing → a `missing` ExpressionError (which `??` answers). */
  const lookupIn =
    (scope: Scope) =>
    (ref: Reference): unknown => {
      const missing = (reason: string) => new ExpressionError(`\${${ref.text}}`, reason);
      if (ref.root === 'inputs') return walkPath(scope.inputs, ref.path, ref.text);
      if (ref.root === 'steps') {
        const [id, field] = ref.path;
        if (typeof id !== 'string') throw new ExpressionError(`\${${ref.text}}`, 'name a step', 'invalid');
        const rec = scope.findStep(id);
        // Validation guarantees the id exists; a step a branch passed over reads as skipped.
        if (field === 'status') return walkPath(rec?.status ?? 'skipped', ref.path.slice(2), ref.text);
        if (!rec) throw missing(`step "${id}" did not run`);
        if (rec.status !== 'completed') throw missing(`step "${id}" is ${rec.status}`);
        // ensureLoaded runs before anything is resolved; a record still without its output is our bug.
        if (unloaded.has(rec)) throw new Error(`output of step "${id}" read before it was loaded`);
        return walkPath(rec.output, ref.path.slice(2), ref.text);
      }
      const local = scope.findLocal(ref.root);
      if (!local) throw new ExpressionError(`\${${ref.text}}`, `unknown name "${ref.root}"`, 'invalid');
      return walkPath(local.value, ref.path, ref.text);
    };

  /** Resolves expressions against `scope`; what spec data gets wrong fails as a typed failure naming `site`. */
  const resolveIn =
    (scope: Scope, site: DataSite) =>
    (value: unknown): unknown => {
      try {
        return resolveValue(value, lookupIn(scope));
      } catch (err) {
        throw specDataFailure(err, site);
      }
    };

  /** Loads (one activity each, once) the blob-stored outputs of the steps `ids` that `scope` sees. */
  const ensureLoaded = async (ids: Iterable<string>, scope: Scope, path: string): Promise<void> => {
    if (unloaded.size === 0) return;
    for (const id of ids) {
      const rec = scope.findStep(id);
      if (!rec || !unloaded.has(rec) || !rec.outputRef) continue;
      const ref = rec.outputRef;
      let load = loading.get(rec);
      if (!load) {
        load = loadBlob(ref, path).then((output) => {
          rec.output = output;
          unloaded.delete(rec);
        });
        loading.set(rec, load);
      }
      await load;
    }
  };

  /** Step outputs `value` reads; malformed text fails as spec data at `site`. */
  const outputsRead = (value: unknown, site: DataSite): Set<string> => {
    try {
      return needsOf([value]).outputs;
    } catch (err) {
      throw specDataFailure(err, site);
    }
  };

  /** Every step nested in `steps`, through each kind's nested lists. */
  const descendants = (steps: Step[]): Step[] =>
    steps.flatMap((s) => [s, ...descendants((stepKindOf(s).nested?.(s).lists ?? []).flat())]);

  const runList = (steps: Step[], scope: Scope, prefix: string, devices: DeviceContext): Promise<unknown> => {
    // A one-step list (a parallel branch, a map item) is that step: no promise of its own.
    if (steps.length === 1 && patched(RUN_PATCH)) return runStep(steps[0] as Step, scope, prefix, devices);
    return runListInTurn(steps, scope, prefix, devices);
  };

  const runListInTurn = async (steps: Step[], scope: Scope, prefix: string, devices: DeviceContext) => {
    let last: unknown = null;
    for (const step of steps) last = await runStep(step, scope, prefix, devices);
    return last;
  };

  const runStep = (step: Step, scope: Scope, prefix: string, devices: DeviceContext): Promise<unknown> => {
    const path = prefix ? `${prefix}.${step.id}` : step.id;
    const record: StepRecord = { id: step.id, kind: step.kind, status: 'running', startedAt: new Date().toISOString() };
    records.set(path, record);
    scope.steps.set(step.id, record);
    const site: DataSite = { stepPath: path };
    const resolve = resolveIn(scope, site);
    const ctx: StepContext = {
      path,
      options,
      childSpecs,
      resolve,
      evaluate: (cond) => {
        try {
          return evaluateCondition(cond, resolve);
        } catch (err) {
          throw specDataFailure(err, site);
        }
      },
      runSteps: (list, session) => runList(list, scope, prefix, session ? { ...devices, session } : devices),
      runIsolated: (list, key, locals) =>
        runList(list, new Scope(scope.inputs, scope, locals), `${path}[${key}]`, devices),
      descendants,
      devices,
      runInChildren: async (list, items, opts) => {
        const needs = needsOf([list]);
        const read: Array<[string, StepRecord]> = [];
        for (const id of new Set([...needs.outputs, ...needs.statuses])) {
          const rec = scope.findStep(id);
          if (rec) read.push([id, rec]);
        }
        const locals: Record<string, unknown> = {};
        for (const name of needs.locals) {
          const local = scope.findLocal(name);
          if (local) locals[name] = local.value;
        }
        const inputs: Record<string, unknown> = {};
        for (const name of needs.inputs) {
          if (Object.prototype.hasOwnProperty.call(scope.inputs, name)) inputs[name] = scope.inputs[name];
        }
        return runInChildren(
          {
            path,
            spec: { name: spec.name, version: spec.version },
            steps: list,
            items,
            inputs,
            locals,
            scope: await carryRecords(read, needs.outputs, options.maxInlineOutputBytes, (p, out) => storeBlob(out, p)),
            childSpecs,
            options,
            ledger: ctx.ledger,
            report: ctx.report,
          },
          opts,
        );
      },
      requestApproval: (req, key) => requestApproval(path, req, key === undefined ? path : `${path}.${key}`),
      ledger: ledger.forStep(path),
      report: (progress) => (record.progress = progress),
      isPatched,
    };
    /** The step's output as recorded; throws what the step then fails with (an output too large). */
    const complete = (result: unknown): unknown => {
      const skipped = result instanceof StepSkipped ? result : undefined;
      const output = (skipped ? { skipped: true, reason: skipped.reason, ...skipped.output } : result) ?? null;
      const json = JSON.stringify(output);
      // A UTF-16 unit is at most 3 bytes of UTF-8: only an output near the limit is counted.
      const size = json.length * 3 > options.maxOutputBytes ? utf8Length(json) : 0;
      if (size > options.maxOutputBytes) {
        throw ApplicationFailure.create({
          type: 'OutputTooLarge',
          message: `output is ${size} bytes, over the limit of ${options.maxOutputBytes} bytes (options.maxOutputBytes)`,
          nonRetryable: true,
        });
      }
      Object.assign(record, {
        status: skipped ? 'skipped' : 'completed',
        output,
        finishedAt: new Date().toISOString(),
      });
      ledger.flush();
      return output;
    };
    /** Records how the step ended and returns what to throw: a cancellation as it is, else StepFailed. */
    const failure = (err: unknown): unknown => {
      ledger.flush();
      record.finishedAt = new Date().toISOString();
      if (isCancellation(err)) {
        record.status = 'cancelled';
        return err;
      }
      record.status = 'failed';
      record.error = errorMessage(err);
      if (err instanceof ApplicationFailure && err.type === 'StepFailed') return err;
      return ApplicationFailure.create({
        type: 'StepFailed',
        message: `step "${path}" failed: ${record.error}`,
        nonRetryable: true,
        cause: err instanceof Error ? err : undefined,
        details: [{ stepId: path }],
      });
    };
    const kind = stepKindOf(step);
    if (unloaded.size === 0 && patched(RUN_PATCH)) {
      // New runs: the kind's own promise and one more, where an async function and its awaits
      // made four or five (each costs the SDK a stack trace).
      let running: Promise<unknown>;
      try {
        running = kind.start ? kind.start(step, ctx) : kind.run(step, ctx);
      } catch (err) {
        const thrown = failure(err);
        recordStepDuration(record);
        return Promise.reject(thrown);
      }
      return running.then(
        (result) => {
          try {
            return complete(result);
          } catch (err) {
            throw failure(err);
          } finally {
            recordStepDuration(record);
          }
        },
        (err: unknown) => {
          const thrown = failure(err);
          recordStepDuration(record);
          throw thrown;
        },
      );
    }
    // Runs without RUN_PATCH replay these awaits tick for tick.
    return (async () => {
      try {
        // Not even an await when nothing waits in the blob store: older histories replay tick for tick.
        if (unloaded.size > 0) await ensureLoaded(outputsRead(step, site), scope, path);
        return complete(await kind.run(step, ctx));
      } catch (err) {
        throw failure(err);
      } finally {
        recordStepDuration(record);
      }
    })();
  };

  /** A fan-out's child: runs its items as the parent would have, returns each one's outcome. */
  const runFragment = async (f: NonNullable<RunInput['fragment']>): Promise<FragmentOutcome[]> => {
    const outer = new Scope(checkedInputs, top, f.locals);
    const item = (j: number) =>
      runList(spec.steps, new Scope(checkedInputs, outer, f.items[j]), `${f.path}[${f.from + j}]`, runDevices);
    if (f.mode === 'collect') return runBounded(f.items.length, f.maxConcurrency, item);
    const outputs = await runFailFast(f.items.length, f.maxConcurrency, item);
    return outputs.map((output) => ({ status: 'completed', output }));
  };

  try {
    if (input.fragment) {
      const outcomes = await runFragment(input.fragment);
      phase = 'completed';
      if (notices.active) await notices.settle();
      // The items' records stay in this run's progress; the parent needs only the outcomes.
      return { output: outcomes, steps: {}, usage: ledger.summary() };
    }
    const first = input.resume?.nextStep ?? 0;
    for (let i = first; i < spec.steps.length; i++) {
      await runStep(spec.steps[i] as Step, top, '', runDevices);
      const done = i + 1 - first;
      const every = options.continueAsNewAfterSteps;
      const moreToDo = i + 1 < spec.steps.length;
      if (moreToDo && ((every > 0 && done >= every) || workflowInfo().continueAsNewSuggested)) {
        const bounded = isPatched(BOUNDED_CARRY_PATCH);
        const steps = bounded
          ? await carryRecords(
              [...records].filter(([path]) => !path.includes('[')),
              needsAfter(spec, i + 1).outputs,
              options.maxInlineOutputBytes,
              (path, output) => storeBlob(output, path),
            )
          : Object.fromEntries(records);
        if (notices.active) await notices.settle();
        // Handlers must finish before the history is closed, or their callers see an error.
        await condition(allHandlersFinished);
        await continueAsNew<typeof runSpec>({
          ...input,
          ...(bounded && { inputs: checkedInputs }),
          resume: {
            nextStep: i + 1,
            steps,
            generation: (input.resume?.generation ?? 0) + 1,
            ledger: ledger.state(),
            ...(bounded && { checked: true }),
            ...(desk.usedNonces().length > 0 && { usedNonces: desk.usedNonces() }),
          },
        });
      }
    }
    if (unloaded.size > 0) {
      // Without an `output` mapping the run's output is every top-level step's output.
      const read = spec.output === undefined ? spec.steps.map((s) => s.id) : outputsRead(spec.output, { output: true });
      await ensureLoaded(read, top, 'output');
    }
    const output =
      spec.output === undefined
        ? Object.fromEntries(spec.steps.map((s) => [s.id, top.findStep(s.id)?.output ?? null]))
        : resolveIn(top, { output: true })(spec.output);
    phase = 'completed';
    if (notices.active) await announceEnd('completed');
    const steps = Object.fromEntries([...records].map(([path, rec]) => [path, shownRecord(rec)]));
    return { output, steps, usage: ledger.summary() };
  } catch (err) {
    phase = isCancellation(err) ? 'cancelled' : 'failed';
    if (notices.active && !(err instanceof ContinueAsNew)) {
      // A cancelled run still announces its end.
      await CancellationScope.nonCancellable(() => announceEnd(phase as 'failed' | 'cancelled', err));
    }
    // A parent charges what its failed child spent from this (steps/child.ts).
    throw phase === 'failed' ? ledger.withUsage(err) : err;
  }
}
