/** The worker's models and providers, validated at start-up; API keys come only from the environment. */

/** Which wire protocol a provider speaks. `openai` covers OpenAI, Ollama, vLLM, llama.cpp and LM Studio. */
export type ProviderType = 'openai' | 'anthropic';

export interface LlmProviderConfig {
  name: string;
  type: ProviderType;
  /** Absent: the SDK's own default (api.openai.com, api.anthropic.com). */
  baseUrl?: string;
  /** Tried in order; on HTTP 429 the next one is used. Empty for servers that need none. */
  keys: string[];
  /** Where the keys came from, for messages (never the keys themselves). */
  keyEnv: string[];
  headers: Record<string, string>;
  /** `max_completion_tokens` for OpenAI's newer models; `max_tokens` elsewhere. */
  maxTokensParam: 'max_tokens' | 'max_completion_tokens';
  /** Set when an optional provider has no keys: its models fail with this reason. */
  disabled?: string;
  /** Set: the provider's calls run on a task queue of their own with these limits (activities/llm/route.ts). */
  limits?: ProviderLimits;
}

export interface ProviderLimits {
  /** Calls started per second across every worker, enforced by the Temporal server. */
  callsPerSecond?: number;
  /** Calls running at once on one worker process. */
  concurrentPerWorker?: number;
}

export interface ModelPrice {
  /** US dollars per million input tokens. */
  inputPerMTok: number;
  outputPerMTok: number;
}

export interface LlmModelConfig {
  name: string;
  provider: string;
  /** The provider's model id, e.g. gpt-4o-mini, claude-sonnet-4-5, llama3.1. */
  model: string;
  price: ModelPrice;
  maxTokens?: number;
  temperature?: number;
}

export interface LlmConfig {
  /** The file or environment variable it came from. */
  source: string;
  providers: Record<string, LlmProviderConfig>;
  models: Record<string, LlmModelConfig>;
}

export const EMPTY_LLM_CONFIG: LlmConfig = { source: 'none', providers: {}, models: {} };
