import type { ActivityStep } from '../steps/activity';
import type { AgentStep } from '../steps/agent';
import type { ApprovalStep } from '../steps/approval';
import type { BranchStep } from '../steps/branch';
import type { BuildStep } from '../steps/build';
import type { ChildStep } from '../steps/child';
import type { LlmStep } from '../steps/llm';
import type { ResearchStep } from '../orchestrations/research';
import type { SwarmStep } from '../orchestrations/swarm';
import type { DeviceCommandStep } from '../steps/device-command';
import type { DeviceSessionStep } from '../steps/device-session';
import type { DeviceUploadStep } from '../steps/device-upload';
import type { MapStep } from '../steps/map';
import type { ParallelStep } from '../steps/parallel';
import type { SleepStep } from '../steps/sleep';
import type { ToolStep } from '../steps/tool';

/** Every step a spec can hold; a new kind adds its type here and its module to `steps/index.ts`. */
export type Step =
  | ActivityStep
  | ApprovalStep
  | BranchStep
  | ChildStep
  | MapStep
  | ParallelStep
  | SleepStep
  | ToolStep
  | BuildStep
  | DeviceCommandStep
  | DeviceSessionStep
  | DeviceUploadStep
  | LlmStep
  | AgentStep
  | ResearchStep
  | SwarmStep;
