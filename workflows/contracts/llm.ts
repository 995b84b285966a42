/**
 * The contract between workflows and the LLM activity. Provider-neutral: the activity maps it to
 * the OpenAI chat-completions or Anthropic messages wire format; the agent loop's stored
 * conversation turns; the run's token and cost ledger as runs report it.
 */
import type { BlobRef } from './blobs';
import type { ToolCallInput } from './tool';

/** A tool the model may call; `parameters` is a JSON Schema of its arguments. */
export interface LlmToolSpec {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
}

export interface LlmToolCall {
  id: string;
  name: string;
  /** The parsed arguments; null when the model sent text that is not a JSON object. */
  arguments: Record<string, unknown> | null;
  /** Why `arguments` is null, with the raw text the model sent. */
  argumentsError?: string;
}

export type LlmMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: LlmToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string; isError?: boolean };

export interface LlmOutputSchema {
  /** Shown to the provider as the schema's name. Default: `output`. */
  name?: string;
  schema: Record<string, unknown>;
}

export interface LlmRequest {
  /** A model name from the worker's models config, never a provider's model id. */
  model: string;
  messages: LlmMessage[];
  tools?: LlmToolSpec[];
  /** `none`: the tools stay declared (earlier turns used them) but the model must answer in text. */
  toolChoice?: 'auto' | 'none';
  /** Ask for structured output: the reply is parsed and validated, and repaired up to `maxRepairs` times. */
  schema?: LlmOutputSchema;
  maxRepairs?: number;
  maxTokens?: number;
  temperature?: number;
}

/** Tokens and money; summed per step, per run, and per budget scope. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Priced with the model's prices from the worker's config, in US dollars. */
  costUsd: number;
  /** Requests the provider answered (repairs count). */
  calls: number;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'other';

export interface LlmResponse {
  model: string;
  provider: string;
  /** The provider's own model id. */
  providerModel: string;
  text: string;
  /** The parsed, schema-valid object when the request had a schema. */
  object?: unknown;
  toolCalls: LlmToolCall[];
  finishReason: FinishReason;
  usage: Usage;
  /** How many repair round-trips the structured output needed. */
  repairs: number;
  /** Which of the provider's keys answered (its position in the config, never the key). */
  keyIndex: number;
}

export type LlmFailureType =
  /** Every key of the provider is rate limited; retried after the provider's retry-after. */
  | 'LlmRateLimited'
  | 'LlmServerError'
  | 'LlmConnectionError'
  | 'LlmMalformedResponse'
  /** Non-retryable: the request is wrong (400, 404, 422). */
  | 'LlmBadRequest'
  /** Non-retryable: 401/403. */
  | 'LlmAuthError'
  /** Non-retryable: the structured output stayed invalid after the allowed repairs. */
  | 'LlmInvalidOutput'
  | 'LlmUnknownModel'
  | 'LlmModelUnavailable';

/** Failure details of a call that spent tokens before it failed, so the ledger still counts them. */
export interface LlmFailureDetails {
  usage?: Usage;
  [k: string]: unknown;
}

/**
 * The activity's heartbeat details, carried from one attempt to the next: what it learnt about the
 * provider's keys, and the usage of every attempt so far — a retried call charges what the failed
 * attempts spent, and a timed-out call's failure still carries it (`lastHeartbeatDetails`).
 */
export interface LlmHeartbeat {
  provider: string;
  limitedUntil: number[];
  spent?: Usage;
}

export interface LlmActivities {
  llmChat(request: LlmRequest): Promise<LlmResponse>;
}

export const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 };

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    costUsd: a.costUsd + b.costUsd,
    calls: a.calls + b.calls,
  };
}

export function totalTokens(u: Usage): number {
  return u.inputTokens + u.outputTokens;
}

/** A Usage read from failure or heartbeat details, which the workflow cannot trust to be well formed. */
export function asUsage(value: unknown): Usage | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const u = value as Record<string, unknown>;
  const fields = ['inputTokens', 'outputTokens', 'costUsd', 'calls'] as const;
  if (!fields.every((f) => typeof u[f] === 'number' && Number.isFinite(u[f]) && (u[f] as number) >= 0))
    return undefined;
  return { inputTokens: u.inputTokens, outputTokens: u.outputTokens, costUsd: u.costUsd, calls: u.calls } as Usage;
}

// ---- The ledger as runs report and carry it. ----

export interface Budget {
  tokens?: number;
  usd?: number;
}

export interface UsageTotals extends Usage {
  totalTokens: number;
}

export interface BudgetStatus {
  /** The run, or the path of the step that carries the budget. */
  scope: string;
  /** The limit now in force (raised by each approval). */
  limit: Budget;
  spent: UsageTotals;
  stopped?: { by: string; at: string; comment?: string };
}

export interface LedgerSummary {
  total: UsageTotals;
  budgets: BudgetStatus[];
}

/** What a run carries across continue-as-new. */
export interface LedgerState {
  total: Usage;
  byStep: Record<string, Usage>;
  limits: Record<string, Budget>;
}

// ---- An agent's conversation kept in the blob store (workflows/llm/conversation.ts). ----

/** A message a turn adds: inline (a prompt, an error), or stored (a tool's result). */
export type AppendedMessage = LlmMessage | { stored: BlobRef };

export interface LlmTurnRequest extends Omit<LlmRequest, 'messages' | 'tools'> {
  /** The conversation so far as an earlier turn stored it; none on the first turn. */
  conversation?: BlobRef;
  /** Messages to add before the model is asked. */
  append: AppendedMessage[];
  /** Declared on the first turn and kept with the conversation; later turns leave it out. */
  tools?: LlmToolSpec[];
}

export interface LlmTurnResponse extends LlmResponse {
  /** The conversation the model was shown (without its reply). */
  conversation: BlobRef;
  /** The conversation with the model's reply added; only when the reply calls tools. */
  withReply?: BlobRef;
}

export interface AgentToolCallInput extends ToolCallInput {
  /** The model's id of the call and the tool's name as the model knows it. */
  toolCallId: string;
  name: string;
  /** Longest result passed back to the model; the rest is cut with a note. */
  maxResultChars: number;
}

/** A tool's result as the model will read it, kept in the blob store. */
export interface StoredToolResult {
  stored: BlobRef;
  /** Characters of the stored message's content. */
  chars: number;
}

export interface ConversationActivities {
  llmChatTurn(request: LlmTurnRequest): Promise<LlmTurnResponse>;
  agentCallTool(input: AgentToolCallInput): Promise<StoredToolResult>;
}

/**
 * Where a model's calls run: its provider's task queue when the provider has limits (so the
 * Temporal server enforces them across workers), or absent for the workflow's own queue.
 */
export interface LlmRoute {
  taskQueue?: string;
}

/** A local activity: the worker's models config is the only place that knows model → provider. */
export interface LlmRouteActivities {
  llmRouteFor(model: string): Promise<LlmRoute>;
}
