import type { ActivityStep } from '../steps/activity';
import type { ApprovalStep } from '../steps/approval';
import type { BranchStep } from '../steps/branch';
import type { ChildStep } from '../steps/child';
import type { MapStep } from '../steps/map';
import type { ParallelStep } from '../steps/parallel';
import type { SleepStep } from '../steps/sleep';
import type { ToolStep } from '../steps/tool';

/** Every step a spec can hold; a new kind adds its type here and its module to `steps/index.ts`. */
export type Step = ActivityStep | ApprovalStep | BranchStep | ChildStep | MapStep | ParallelStep | SleepStep | ToolStep;
