/**
 * The contract between the API, the workers and the workflows: names, input and result
 * shapes, update and query definitions, search attributes. Defined once, imported by all.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Step } from './spec/types';

export const DEFAULT_TASK_QUEUE = 'orchestrator';
export const RUN_SPEC_WORKFLOW = 'runSpec';

export type InputType = 'string' | 'number' | 'boolean' | 'object' | 'array';

export interface InputDecl {
  type: InputType;
  description?: string;
  default?: unknown;
  /** Defaults to true when no default is given. */
  required?: boolean;
}

export interface Spec {
  name: string;
  version?: number;
  description?: string;
  inputs?: Record<string, InputDecl>;
  steps: Step[];
  /** The run's result; expressions over inputs and steps. Defaults to every top-level step's output. */
  output?: unknown;
}

export interface RunOptions {
  /** Largest step output (UTF-8 JSON bytes) a run accepts; bigger outputs fail the step. */
  maxOutputBytes?: number;
  /** Continue-as-new after this many top-level steps (0: only when Temporal suggests it). */
  continueAsNewAfterSteps?: number;
}

export const DEFAULT_RUN_OPTIONS: Required<RunOptions> = {
  maxOutputBytes: 256 * 1024,
  continueAsNewAfterSteps: 0,
};

export type StepStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled' | 'skipped';

export interface StepRecord {
  id: string;
  kind: string;
  status: StepStatus;
  startedAt: string;
  finishedAt?: string;
  output?: unknown;
  error?: string;
}

/** Carried across continue-as-new so a long run resumes where it stopped. */
export interface ResumeState {
  nextStep: number;
  steps: Record<string, StepRecord>;
  generation: number;
}

export interface RunInput {
  spec: Spec;
  inputs?: Record<string, unknown>;
  /** Specs that `child` steps name, resolved when the run was submitted (recorded in history). */
  childSpecs?: Record<string, Spec>;
  options?: RunOptions;
  resume?: ResumeState;
}

export interface RunResult {
  output: unknown;
  steps: Record<string, StepRecord>;
}

export interface PendingApproval {
  stepId: string;
  prompt?: string;
  approvers?: string[];
  requestedAt: string;
  timeoutAt?: string;
  onTimeout: 'approve' | 'reject';
}

export type RunPhase = 'running' | 'waiting_approval' | 'completed' | 'failed' | 'cancelled';

export interface RunProgress {
  spec: { name: string; version?: number };
  phase: RunPhase;
  /** Paths of the steps running now. */
  current: string[];
  steps: Record<string, StepRecord>;
  pendingApprovals: PendingApproval[];
  /** How many times the run continued as new. */
  generation: number;
}

export interface ApprovalInput {
  stepId: string;
  decision: 'approve' | 'reject';
  by: string;
  comment?: string;
}

export interface ApprovalResult {
  stepId: string;
  decision: 'approve' | 'reject';
  by: string;
  comment?: string;
  at: string;
}

export const progressQuery = defineQuery<RunProgress>('progress');
/** An update, not a signal: the caller learns at once whether the step was waiting. */
export const approveUpdate = defineUpdate<ApprovalResult, [ApprovalInput]>('approve');

export const SPEC_NAME_ATTRIBUTE = defineSearchAttributeKey('AgentSpec', SearchAttributeType.KEYWORD);
export const PENDING_APPROVALS_ATTRIBUTE = defineSearchAttributeKey(
  'AgentPendingApprovals',
  SearchAttributeType.KEYWORD_LIST,
);
/** For `temporal server start-dev --search-attribute NAME=TYPE` and operator setup. */
export const CUSTOM_SEARCH_ATTRIBUTES: Record<string, 'Keyword' | 'KeywordList'> = {
  [SPEC_NAME_ATTRIBUTE.name]: 'Keyword',
  [PENDING_APPROVALS_ATTRIBUTE.name]: 'KeywordList',
};
