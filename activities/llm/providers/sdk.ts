/**
 * What the official Anthropic and OpenAI SDKs share, both generated from one template: the same
 * error classes and client options.
 */
import type { LlmProviderConfig } from '../config/types';
import { ProviderError } from './provider';

type ErrorClass<E extends Error = Error> = new (...args: never[]) => E;

export interface SdkErrorClasses {
  APIUserAbortError: ErrorClass;
  APIConnectionError: ErrorClass;
  APIError: ErrorClass<Error & { status: number | undefined; headers: Headers | undefined }>;
}

/** Maps what the SDK threw; the SDK does no retries of its own (maxRetries: 0). */
export function problemOf(err: unknown, sdk: SdkErrorClasses): ProviderError {
  if (err instanceof sdk.APIUserAbortError) return new ProviderError({ kind: 'aborted', message: 'request aborted' });
  if (err instanceof sdk.APIConnectionError) return new ProviderError({ kind: 'connection', message: err.message });
  if (err instanceof sdk.APIError && typeof err.status === 'number') {
    return new ProviderError({ kind: 'http', status: err.status, message: err.message, headers: err.headers });
  }
  if (err instanceof SyntaxError)
    return new ProviderError({ kind: 'malformed', message: `response is not valid JSON: ${err.message}` });
  if (err instanceof Error) return new ProviderError({ kind: 'connection', message: err.message });
  return new ProviderError({ kind: 'connection', message: String(err) });
}

export interface SdkClientOptions {
  apiKey: string;
  baseURL?: string;
  defaultHeaders: Record<string, string>;
  maxRetries: number;
}

/** One client per provider and key, made on first use. */
export function clientCache<C>(
  create: (options: SdkClientOptions) => C,
): (provider: LlmProviderConfig, apiKey: string | undefined) => C {
  const clients = new Map<string, C>();
  return (provider, apiKey) => {
    const id = `${provider.name}\u0000${apiKey ?? ''}`;
    let client = clients.get(id);
    if (!client) {
      client = create({
        // The SDKs insist on a key; local servers ignore it.
        apiKey: apiKey ?? 'no-key',
        ...(provider.baseUrl !== undefined && { baseURL: provider.baseUrl }),
        defaultHeaders: provider.headers,
        maxRetries: 0,
      });
      clients.set(id, client);
    }
    return client;
  };
}
