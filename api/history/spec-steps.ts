/** The steps a spec declares, at any depth: for kinds by id and for what a rerun runs again. */
import type { Step } from '../../workflows/contracts/spec';
import { STEP_KINDS } from '../../workflows/steps';
import type { StepKind } from '../../workflows/steps/step-kind';

/** `steps` and every step nested in them (parallel branches, map bodies, sessions, …). */
export function allSteps(steps: readonly Step[]): Step[] {
  const out: Step[] = [];
  const visit = (list: readonly Step[]) => {
    for (const step of list) {
      out.push(step);
      // A spec recorded by older code may name a kind this code no longer has: no nesting known.
      const kind = (STEP_KINDS as Record<string, StepKind | undefined>)[step.kind];
      for (const nested of kind?.nested?.(step)?.lists ?? []) visit(nested);
    }
  };
  visit(steps);
  return out;
}

/** `each[2].fetch` → `fetch`: the id of the step at the end of a path. */
export function stepIdOfPath(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('.'), path.lastIndexOf(']')) + 1);
}
