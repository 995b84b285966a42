import type { Step } from '../contracts/spec';
import { activityKind } from './activity';
import { agentKind } from './agent';
import { approvalKind } from './approval';
import { branchKind } from './branch';
import { buildKind } from './build';
import { childKind } from './child';
import { llmKind } from './llm';
import { deviceCommandKind } from './device-command';
import { deviceSessionKind } from './device-session';
import { deviceUploadKind } from './device-upload';
import { mapKind } from './map';
import { researchKind } from '../orchestrations/research';
import { swarmKind } from '../orchestrations/swarm';
import { parallelKind } from './parallel';
import { sleepKind } from './sleep';
import type { StepKind } from './step-kind';
import { toolKind } from './tool';

/** The registry of step kinds, by `kind`. */
export const STEP_KINDS = {
  activity: activityKind,
  agent: agentKind,
  approval: approvalKind,
  branch: branchKind,
  build: buildKind,
  child: childKind,
  llm: llmKind,
  device_command: deviceCommandKind,
  device_session: deviceSessionKind,
  device_upload: deviceUploadKind,
  map: mapKind,
  parallel: parallelKind,
  sleep: sleepKind,
  research: researchKind,
  swarm: swarmKind,
  tool: toolKind,
} satisfies { [K in Step['kind']]: StepKind<Extract<Step, { kind: K }>> };

export function stepKindOf<S extends Step>(step: S): StepKind<S> {
  return STEP_KINDS[step.kind] as unknown as StepKind<S>;
}
