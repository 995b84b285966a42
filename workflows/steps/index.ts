import type { Step } from '../spec/types';
import { activityKind } from './activity';
import { approvalKind } from './approval';
import { branchKind } from './branch';
import { childKind } from './child';
import { mapKind } from './map';
import { parallelKind } from './parallel';
import { sleepKind } from './sleep';
import type { StepKind } from './step-kind';
import { toolKind } from './tool';

/** The registry of step kinds, by `kind`. */
export const STEP_KINDS = {
  activity: activityKind,
  approval: approvalKind,
  branch: branchKind,
  child: childKind,
  map: mapKind,
  parallel: parallelKind,
  sleep: sleepKind,
  tool: toolKind,
} satisfies { [K in Step['kind']]: StepKind<Extract<Step, { kind: K }>> };

export function stepKindOf<S extends Step>(step: S): StepKind<S> {
  return STEP_KINDS[step.kind] as unknown as StepKind<S>;
}
