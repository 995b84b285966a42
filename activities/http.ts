/**
 * The built-in `http` activity. Where it may go is server-side config, never the request's
 * choice, so a spec cannot turn the worker into an open proxy: every hop of a redirect chain is
 * checked against HTTP_ALLOWED_HOSTS (host and port), every resolved address against the
 * non-public ranges, and the response body against HTTP_MAX_RESPONSE_BYTES while it streams.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AllowList } from './outbound/allow-list';
import { effectivePort, guardedRequest, resolveAll, type HopResult, type Resolve } from './outbound/guarded-request';

export interface HttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** JSON-encoded when not a string. */
  body?: unknown;
  /** Largest response body kept, in bytes; may lower the server's limit, never raise it. */
  maxBytes?: number;
  /** Redirects followed (default and most: 5); 0 returns the 3xx itself. */
  maxRedirects?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface HttpActivityOptions {
  /** Largest response body read, in bytes (default 1 MiB). */
  maxResponseBytes?: number;
  /** How names are resolved (tests); default: the system resolver, every address. */
  resolve?: Resolve;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
export const MAX_REDIRECTS = 5;

/** Headers that carry credentials for one origin: not sent on to another. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`http: ${message}`, 'HttpInvalidRequest');
}

function parseUrl(text: unknown, base?: URL): URL {
  try {
    return new URL(String(text), base);
  } catch {
    throw invalid(`"${String(text)}"${base ? ` (a redirect from ${base.href})` : ''} is not a valid URL`);
  }
}

function flatHeaders(headers: HopResult['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function createHttpActivity(allowedHosts: readonly string[], options: HttpActivityOptions = {}) {
  const allowList = new AllowList(allowedHosts);
  const serverMax = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const resolve = options.resolve ?? resolveAll;

  /** Refuses a URL whose scheme, host or port is not allowed; `from` names the hop that led here. */
  function checkUrl(url: URL, from?: URL): void {
    const via = from ? ` (redirected from ${from.href})` : '';
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw ApplicationFailure.nonRetryable(
        `http: ${url.href}${via}: only http and https are allowed`,
        'HttpHostNotAllowed',
      );
    }
    const port = effectivePort(url);
    if (!allowList.allowsHost(url.hostname, port)) {
      throw ApplicationFailure.nonRetryable(
        `http: ${url.href}${via}: ${url.hostname} port ${port} is not in HTTP_ALLOWED_HOSTS (${allowList}); ` +
          'a bare host allows ports 80 and 443 only, host:port that port only',
        'HttpHostNotAllowed',
      );
    }
  }

  return async function http(req: HttpRequest): Promise<HttpResponse> {
    if (typeof req?.url !== 'string') throw invalid('url must be a string');
    const ctx = Context.current();
    const maxBytes = Math.min(serverMax, req.maxBytes ?? serverMax);
    const maxRedirects = Math.min(MAX_REDIRECTS, Math.max(0, req.maxRedirects ?? MAX_REDIRECTS));
    let url = parseUrl(req.url);
    let method = (req.method ?? 'GET').toUpperCase();
    let body = req.body === undefined || typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    let headers: Record<string, string> = {
      ...(req.body !== undefined && typeof req.body !== 'string' ? { 'content-type': 'application/json' } : {}),
      ...req.headers,
    };
    let from: URL | undefined;

    for (let hop = 0; ; hop++) {
      checkUrl(url, from);
      let res: HopResult;
      try {
        res = await guardedRequest({
          url,
          method,
          headers,
          body,
          signal: ctx.cancellationSignal,
          maxBytes,
          allowList,
          resolve,
        });
      } catch (err) {
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        if (err instanceof ApplicationFailure) throw err;
        // Refused connections, resets, DNS failures: the step's retry policy decides.
        throw ApplicationFailure.retryable(`http: ${url.href}: ${(err as Error).message}`, 'HttpConnectionError');
      }
      if (res.location !== undefined && maxRedirects > 0) {
        if (hop >= maxRedirects) {
          throw ApplicationFailure.nonRetryable(
            `http: ${req.url}: more than ${maxRedirects} redirects (the last to ${res.location})`,
            'HttpTooManyRedirects',
          );
        }
        const next = parseUrl(res.location, url);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          headers = Object.fromEntries(
            Object.entries(headers).filter(([k]) => !/^content-(type|length|encoding)$/i.test(k)),
          );
        }
        if (next.origin !== url.origin) {
          headers = Object.fromEntries(
            Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.includes(k.toLowerCase())),
          );
        }
        from = url;
        url = next;
        continue;
      }
      const text = res.body.toString('utf8');
      const contentType = String(res.headers['content-type'] ?? '');
      const result = {
        status: res.status,
        headers: flatHeaders(res.headers),
        body: contentType.includes('json') ? safeJson(text) : text,
      };
      if (res.status >= 500 || res.status === 429) {
        // Retryable: the step's retry policy decides how often.
        throw ApplicationFailure.retryable(`http: ${url.href} answered ${res.status}`, 'HttpServerError', result);
      }
      if (res.status >= 400) {
        throw ApplicationFailure.nonRetryable(`http: ${url.href} answered ${res.status}`, 'HttpClientError', result);
      }
      return result;
    }
  };
}
