/**
 * The built-in `http` activity. Which hosts it may reach is server-side config, never the
 * request's choice, so a spec cannot turn the worker into an open proxy.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

export interface HttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** JSON-encoded when not a string. */
  body?: unknown;
  /** Largest response body kept, in bytes (default 256 KiB). */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const DEFAULT_MAX_BYTES = 256 * 1024;

export function createHttpActivity(allowedHosts: readonly string[]) {
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
  return async function http(req: HttpRequest): Promise<HttpResponse> {
    let url: URL;
    try {
      url = new URL(req?.url);
    } catch {
      throw ApplicationFailure.nonRetryable(`http: "${req?.url}" is not a valid URL`, 'InvalidArgument');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw ApplicationFailure.nonRetryable(`http: protocol ${url.protocol} is not allowed`, 'HostNotAllowed');
    }
    if (!allowed.has(url.host.toLowerCase()) && !allowed.has(url.hostname.toLowerCase())) {
      throw ApplicationFailure.nonRetryable(
        `http: host "${url.host}" is not in HTTP_ALLOWED_HOSTS (${[...allowed].join(', ') || 'empty'})`,
        'HostNotAllowed',
      );
    }
    const ctx = Context.current();
    const body = req.body === undefined || typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    const headers = { ...(typeof req.body === 'object' ? { 'content-type': 'application/json' } : {}), ...req.headers };
    const res = await fetch(url, { method: req.method ?? 'GET', headers, body, signal: ctx.cancellationSignal });
    const text = await res.text();
    const maxBytes = req.maxBytes ?? DEFAULT_MAX_BYTES;
    if (Buffer.byteLength(text) > maxBytes) {
      throw ApplicationFailure.nonRetryable(
        `http: response of ${url.host} is over ${maxBytes} bytes`,
        'ResponseTooLarge',
      );
    }
    const parsed = (res.headers.get('content-type') ?? '').includes('json') ? safeJson(text) : text;
    const result = { status: res.status, headers: Object.fromEntries(res.headers), body: parsed };
    if (res.status >= 500 || res.status === 429) {
      // Retryable: the step's retry policy decides how often.
      throw ApplicationFailure.retryable(`http: ${url.host} answered ${res.status}`, 'HttpServerError', result);
    }
    if (res.status >= 400) {
      throw ApplicationFailure.nonRetryable(`http: ${url.host} answered ${res.status}`, 'HttpClientError', result);
    }
    return result;
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
