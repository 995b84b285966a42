/**
 * What an MCP server may ask the orchestrator's client during a tool call (elicitation, sampling),
 * as the tool activity hands it to the run that called the tool: a workflow update, so the request
 * and its answer are in the run's history. Workflow-safe.
 */
import { defineUpdate } from '@temporalio/workflow';
import type { LlmMessage, LlmResponse } from './llm';

/** `elicitation/create` (form mode): a person answers through the run's approvals. */
export interface ElicitationAsk {
  /** The step whose tool call asked; the pending input is shown on it. */
  step: string;
  server: string;
  message: string;
  /** The server's requested schema (a flat JSON Schema object of primitive properties). */
  requestedSchema: Record<string, unknown>;
  /** Who may answer (users or groups); absent: anyone with the approver role. */
  approvers?: string[];
  /** Unanswered after this long, the request is declined. */
  timeoutMs: number;
}

export type ElicitationAnswer =
  { action: 'accept'; content: Record<string, unknown>; by: string } | { action: 'decline' | 'cancel'; by: string };

/** `sampling/createMessage`: the run's model answers, charged to the run's ledger and budget. */
export interface SamplingAsk {
  step: string;
  server: string;
  /** A model name from the worker's models config. */
  model: string;
  messages: LlmMessage[];
  maxTokens: number;
  temperature?: number;
  /** Ask a person before the messages go to the model. */
  approve?: { approvers?: string[]; timeoutMs: number };
}

export type SamplingAnswer =
  | { ok: true; response: Pick<LlmResponse, 'model' | 'text' | 'finishReason' | 'usage'> }
  | { ok: false; reason: 'rejected' | 'failed'; message: string };

export const mcpElicitationUpdate = defineUpdate<ElicitationAnswer, [ElicitationAsk]>('mcpElicitation');
export const mcpSamplingUpdate = defineUpdate<SamplingAnswer, [SamplingAsk]>('mcpSampling');

/** Approval ids of client requests: `<step>~input-<n>` and `<step>~sampling-<n>` (no step path has a `~`). */
export const INPUT_APPROVAL_PART = '~input-';
export const SAMPLING_APPROVAL_PART = '~sampling-';

/**
 * An input's answer travels as an approval decision: accept = approve with `content`,
 * decline = reject, cancel = reject with choice `cancel`.
 */
export const CANCEL_CHOICE = 'cancel';
