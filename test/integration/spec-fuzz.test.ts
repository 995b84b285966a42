/**
 * A property over generated specs, on a real Temporal dev server: whatever fields and references
 * a valid spec reads — present or missing, with or without a `??` default, prototype names, values
 * of the wrong shape for a map or a condition — every run closes (completed, or failed with a typed
 * failure naming the step or `output`) and its history has no WorkflowTaskFailed event.
 *
 * The generator is seeded and small (no dependency): the same specs on every run, so a failure
 * names its seed and spec and can be replayed. Steps are short: 1 ms sleeps, approvals that time
 * out in milliseconds, the test activities echo and fail.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Spec, Step } from '../../workflows/contracts/spec';
import { validateSpec } from '../../workflows/spec/validate';
import { failureChain } from '../helpers/failures';
import { useOrchestrator } from '../helpers/orchestrator';
import { settle, workflowTaskFailures } from '../helpers/run-history';

const SEED = 20_240_808;
const SPECS = 40;

const orch = useOrchestrator();

/** mulberry32: a tiny seeded PRNG. */
function prng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INPUTS: Spec['inputs'] = {
  name: { type: 'string' },
  n: { type: 'number', default: 3 },
  note: { type: 'string', required: false },
  obj: { type: 'object', required: false },
  list: { type: 'array', default: [1, { x: 1 }] },
};
const FIELDS = [
  '.a',
  '.b',
  '.x',
  '.comment',
  '.by',
  '.approved',
  '.label',
  '.sleptMs',
  '.taken',
  '.output',
  '.branches',
];
const ODD_FIELDS = ['[0]', '[1]', '.length', '.constructor', '.__proto__', '.toString'];
const DEFAULTS = ["''", '"none"', 'null', '0', 'true', "'a } b'"];

class Generator {
  private next = 0;
  constructor(private readonly random: () => number) {}

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)] as T;
  }
  private chance(p: number): boolean {
    return this.random() < p;
  }
  private id(): string {
    return `s${++this.next}`;
  }

  /** A reference to something in scope, often to a field that is not there. */
  private ref(available: string[], locals: boolean): string {
    const roots = ['inputs', ...(available.length ? ['steps', 'steps'] : []), ...(locals ? ['item', 'index'] : [])];
    const root = this.pick(roots);
    let text: string;
    if (root === 'inputs') text = `inputs.${this.pick(Object.keys(INPUTS ?? {}))}`;
    else if (root === 'steps') text = `steps.${this.pick(available)}.${this.chance(0.2) ? 'status' : 'output'}`;
    else text = root;
    const depth = this.chance(0.5) ? 0 : 1 + Math.floor(this.random() * 2);
    for (let i = 0; i < depth; i++) text += this.pick(this.chance(0.8) ? FIELDS : ODD_FIELDS);
    if (this.chance(0.5)) text += ` ?? ${this.pick(DEFAULTS)}`;
    return `\${${text}}`;
  }

  /** A whole expression (keeps its type) or one interpolated into text. */
  private value(available: string[], locals: boolean): unknown {
    const ref = this.ref(available, locals);
    return this.chance(0.5) ? ref : `value: ${ref}!`;
  }

  private condition(available: string[], locals: boolean): unknown {
    const op = this.pick(['eq', 'ne', 'gt', 'lt', 'in', 'truthy']);
    const v = this.value(available, locals);
    if (op === 'truthy') return { truthy: v };
    if (op === 'in') return { in: [v, this.chance(0.5) ? ['a', 1, null] : this.value(available, locals)] };
    return { [op]: [v, this.pick([1, 'a', null, true])] };
  }

  /** A leaf step; `available` grows as steps are added. */
  private leaf(available: string[], locals: boolean): Step {
    const id = this.id();
    const kind = this.pick(['echo', 'echo', 'echo', 'sleep', 'sleep', 'fail', 'approval', 'approval']);
    if (kind === 'sleep') return { id, kind: 'sleep', duration: '1ms' };
    if (kind === 'fail') return { id, kind: 'activity', activity: 'test.fail', args: { message: `${id} failed` } };
    if (kind === 'approval')
      return {
        id,
        kind: 'approval',
        prompt: `ok? ${this.ref(available, locals)}`,
        timeout: this.pick(['1ms', '5ms', '20ms']),
        onTimeout: this.pick(['approve', 'reject'] as const),
        ...(this.chance(0.5) && { onReject: this.pick(['fail', 'continue'] as const) }),
      };
    return {
      id,
      kind: 'activity',
      activity: 'test.echo',
      args: { v: this.value(available, locals), w: [this.value(available, locals)] },
      // Some retry policies Temporal refuses (maxInterval below initialInterval): a step failure, not a hang.
      ...(this.chance(0.15) && { retry: { initialInterval: '10s', maxInterval: this.pick(['1s', '20s']) } }),
    };
  }

  private list(available: string[], locals: boolean, length: number): Step[] {
    const steps: Step[] = [];
    const seen = [...available];
    for (let i = 0; i < length; i++) {
      const step = this.leaf(seen, locals);
      steps.push(step);
      seen.push(step.id);
    }
    return steps;
  }

  /** A top-level step; returns it and the ids later steps may reference. */
  private step(available: string[]): { step: Step; exported: string[] } {
    const kind = this.pick(['leaf', 'leaf', 'branch', 'map', 'parallel']);
    if (kind === 'branch') {
      const cases = Array.from({ length: 1 + Math.floor(this.random() * 2) }, () => ({
        when: this.condition(available, false),
        steps: this.list(available, false, 1),
      }));
      const otherwise = this.chance(0.5) ? this.list(available, false, 1) : undefined;
      const inner = [...cases.flatMap((c) => c.steps), ...(otherwise ?? [])].map((s) => s.id);
      return {
        step: { id: this.id(), kind: 'branch', cases, ...(otherwise && { otherwise }) } as Step,
        exported: inner,
      };
    }
    if (kind === 'map') {
      const items = this.chance(0.6) ? this.ref(available, false) : [{ x: 1 }, { a: { b: 2 } }, 3];
      return {
        step: { id: this.id(), kind: 'map', items, maxConcurrency: 2, steps: this.list(available, true, 2) } as Step,
        exported: [],
      };
    }
    if (kind === 'parallel') {
      const branches = [this.list(available, false, 2), this.list(available, false, 1)];
      return {
        step: {
          id: this.id(),
          kind: 'parallel',
          mode: this.pick(['failFast', 'collectAll'] as const),
          branches,
        } as Step,
        exported: branches.flat().map((s) => s.id),
      };
    }
    return { step: this.leaf(available, false), exported: [] };
  }

  spec(index: number): { spec: Spec; inputs: Record<string, unknown> } {
    const steps: Step[] = [];
    const available: string[] = [];
    const count = 1 + Math.floor(this.random() * 4);
    for (let i = 0; i < count; i++) {
      const { step, exported } = this.step(available);
      steps.push(step);
      available.push(step.id, ...exported);
    }
    const output = this.chance(0.8)
      ? Object.fromEntries(
          Array.from({ length: 1 + Math.floor(this.random() * 3) }, (_, i) => [`o${i}`, this.value(available, false)]),
        )
      : undefined;
    const inputs: Record<string, unknown> = { name: 'x' };
    if (this.chance(0.5)) inputs.obj = this.pick([{ a: { b: 1 } }, { a: null }, {}]);
    if (this.chance(0.5)) inputs.note = 'hello';
    if (this.chance(0.3)) inputs.list = this.pick([[], [{ x: 2 }, { y: 3 }], [[1]]]);
    return { spec: { name: `fuzz-${index}`, inputs: INPUTS, steps, ...(output && { output }) }, inputs };
  }
}

describe('generated specs with missing fields and references', () => {
  test(`${SPECS} specs (seed ${SEED}): every run closes, typed, without a failed workflow task`, async () => {
    const generator = new Generator(prng(SEED));
    const cases = Array.from({ length: SPECS }, (_, i) => generator.spec(i));
    for (const { spec } of cases) {
      const checked = validateSpec(spec);
      assert.ok(checked.ok, `generated spec is invalid: ${JSON.stringify(checked)}\n${JSON.stringify(spec)}`);
    }

    const outcomes = await Promise.all(
      cases.map(async ({ spec, inputs }) => {
        const handle = await orch.start(spec, inputs);
        const status = await settle(handle);
        const taskFailures = await workflowTaskFailures(handle);
        const failure =
          status === 'FAILED'
            ? await handle.result().then(
                () => undefined,
                (e: unknown) => e,
              )
            : undefined;
        return { spec, inputs, status, taskFailures, failure };
      }),
    );

    const seen = { completed: 0, stepFailed: 0, outputFailed: 0, expressionInStep: 0 };
    for (const { spec, inputs, status, taskFailures, failure } of outcomes) {
      const where = `seed ${SEED}, ${spec.name}: ${JSON.stringify({ spec, inputs })}`;
      assert.deepEqual(taskFailures, [], `workflow task failed in ${where}`);
      assert.ok(status === 'COMPLETED' || status === 'FAILED', `${status}: ${where}`);
      if (status === 'COMPLETED') {
        seen.completed++;
        continue;
      }
      assert.ok(failure instanceof WorkflowFailedError, `${String(failure)}: ${where}`);
      const cause = failure.cause;
      assert.ok(cause instanceof ApplicationFailure && cause.nonRetryable, `${failureChain(failure)}: ${where}`);
      if (cause.type === 'StepFailed') {
        seen.stepFailed++;
        assert.match(cause.message, /^step "[^"]+" failed: /, where);
        assert.equal(typeof (cause.details?.[0] as { stepId?: unknown })?.stepId, 'string', where);
        if (/ExpressionError: expression /.test(failureChain(failure))) seen.expressionInStep++;
      } else {
        assert.equal(cause.type, 'ExpressionError', `${failureChain(failure)}: ${where}`);
        assert.match(cause.message, /^expression "\$\{[^"]*\}" in output\b/, where);
        seen.outputFailed++;
      }
    }
    // The generator must reach every outcome, or the property says little.
    for (const [outcome, count] of Object.entries(seen))
      assert.ok(count > 0, `no run ended ${outcome}: ${JSON.stringify(seen)}`);
    console.log(`spec fuzz, seed ${SEED}: ${JSON.stringify(seen)}`);
  });
});
