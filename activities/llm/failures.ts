/**
 * Maps provider trouble to Temporal failures: a wrong request (400/404/422) or a refused key
 * (401/403) does not retry; overload, 5xx, broken connections and malformed bodies retry by the
 * step's policy; a rate limit on every key retries after the provider's retry-after.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { LlmFailureType, Usage } from '../../workflows/contracts/llm';
import { ProviderError } from './providers/provider';

export function llmFailure(
  type: LlmFailureType,
  message: string,
  opts: { nonRetryable: boolean; usage?: Usage; nextRetryDelayMs?: number; details?: Record<string, unknown> },
): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: opts.nonRetryable,
    details: [{ ...opts.details, ...(opts.usage && opts.usage.calls > 0 && { usage: opts.usage }) }],
    ...(opts.nextRetryDelayMs !== undefined && { nextRetryDelay: opts.nextRetryDelayMs }),
  });
}

const CLIENT_ERRORS_THAT_RETRY = new Set([408, 409, 429]);

/** `where` names the provider, model and key (never the key's value). */
export function toLlmFailure(err: unknown, where: string, usage: Usage): Error {
  if (err instanceof ApplicationFailure) return err;
  if (!(err instanceof ProviderError)) {
    return llmFailure('LlmServerError', `${where}: ${err instanceof Error ? err.message : String(err)}`, {
      nonRetryable: false,
      usage,
    });
  }
  const p = err.problem;
  switch (p.kind) {
    case 'http': {
      const message = `${where}: HTTP ${p.status}: ${p.message}`;
      const details = { status: p.status };
      if (p.status === 401 || p.status === 403)
        return llmFailure('LlmAuthError', message, { nonRetryable: true, usage, details });
      if (p.status >= 400 && p.status < 500 && !CLIENT_ERRORS_THAT_RETRY.has(p.status)) {
        return llmFailure('LlmBadRequest', message, { nonRetryable: true, usage, details });
      }
      return llmFailure('LlmServerError', message, { nonRetryable: false, usage, details });
    }
    case 'malformed':
      return llmFailure('LlmMalformedResponse', `${where}: ${p.message}`, { nonRetryable: false, usage });
    case 'connection':
    case 'aborted':
      return llmFailure('LlmConnectionError', `${where}: ${p.message}`, { nonRetryable: false, usage });
  }
}
