import type { LlmRequest, LlmToolCall, FinishReason } from '../../../workflows/contracts/llm';
import type { LlmModelConfig, LlmProviderConfig } from '../config/types';

export interface ProviderCall {
  provider: LlmProviderConfig;
  model: LlmModelConfig;
  request: LlmRequest;
  /** Absent for servers that take no key (a local Ollama). */
  apiKey?: string;
  signal: AbortSignal;
  timeoutMs: number;
}

export interface ProviderReply {
  providerModel: string;
  text: string;
  /** Structured output the provider returned as such (Anthropic's forced tool). */
  object?: unknown;
  toolCalls: LlmToolCall[];
  finishReason: FinishReason;
  inputTokens: number;
  outputTokens: number;
}

/** What went wrong talking to a provider, in terms the activity decides retries by. */
export type ProviderProblem =
  | { kind: 'http'; status: number; message: string; headers?: Headers }
  | { kind: 'connection'; message: string }
  | { kind: 'aborted'; message: string }
  | { kind: 'malformed'; message: string };

export class ProviderError extends Error {
  constructor(readonly problem: ProviderProblem) {
    super(problem.message);
    this.name = 'ProviderError';
  }
}

export interface ChatProvider {
  chat(call: ProviderCall): Promise<ProviderReply>;
}

/** Tool-call arguments arrive as JSON text; a model may send text that is not a JSON object. */
export function parseToolArguments(id: string, name: string, raw: string | undefined): LlmToolCall {
  const text = raw?.trim() ? raw : '{}';
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return { id, name, arguments: parsed as Record<string, unknown> };
    }
    return { id, name, arguments: null, argumentsError: `expected a JSON object, got ${text.slice(0, 200)}` };
  } catch (err) {
    return { id, name, arguments: null, argumentsError: `${(err as Error).message} in ${text.slice(0, 200)}` };
  }
}
