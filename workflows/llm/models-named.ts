/**
 * The model names a spec's steps call, as far as they are known before the run: literal names,
 * and expressions over the run's inputs resolved against them. Names that depend on earlier
 * steps' outputs are only known at run time and are left out.
 */
import type { Spec, Step } from '../contracts/spec';
import { resolveValue, walkPath } from '../spec/expressions';
import { nestedLists } from '../spec/validate';
import { stepKindOf } from '../steps';

export interface ModelUse {
  /** Field path of the step in the spec, e.g. `spec.steps[1].branches[0][0]`. */
  field: string;
  /** The step's id. */
  stepId: string;
  model: string;
}

class NotKnownBeforeTheRun {}

function resolveModel(value: string, inputs: Record<string, unknown>): string | undefined {
  try {
    const resolved = resolveValue(value, (ref) => {
      if (ref.root !== 'inputs') throw new NotKnownBeforeTheRun();
      return walkPath(inputs, ref.path, ref.text);
    });
    return typeof resolved === 'string' ? resolved : undefined;
  } catch {
    // Depends on a step's output, or the input is missing (input validation reports that).
    return undefined;
  }
}

export function modelsNamedBy(spec: Spec, inputs: Record<string, unknown>, base = 'spec'): ModelUse[] {
  const uses: ModelUse[] = [];
  const visit = (steps: Step[], at: string): void => {
    steps.forEach((step, i) => {
      const field = `${at}[${i}]`;
      for (const name of stepKindOf(step).models?.(step) ?? []) {
        const model = resolveModel(name, inputs);
        if (model !== undefined) uses.push({ field, stepId: step.id, model });
      }
      for (const n of nestedLists(step)) visit(n.list, `${field}.${n.path}`);
    });
  };
  visit(spec.steps, `${base}.steps`);
  return uses;
}
