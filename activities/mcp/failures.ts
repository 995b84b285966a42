import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { McpFailureType } from '../../workflows/contracts/tool';
import {
  McpAuthError,
  McpConnectBackoffError,
  McpConnectError,
  McpPoolClosedError,
  McpUnknownServerError,
  McpUnknownToolError,
} from './errors';
import { authStatus } from './transport';

function fail(
  type: McpFailureType,
  message: string,
  nonRetryable: boolean,
  details?: unknown,
  nextRetryDelayMs?: number,
): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable,
    details: details === undefined ? [] : [details],
    ...(nextRetryDelayMs === undefined ? {} : { nextRetryDelay: nextRetryDelayMs }),
  });
}

/** JSON-RPC errors that another try cannot fix: the request itself is wrong. */
const REQUEST_ERRORS = new Set<number>([
  ErrorCode.InvalidParams,
  ErrorCode.MethodNotFound,
  ErrorCode.InvalidRequest,
  ErrorCode.ParseError,
]);

/**
 * Maps what the pool or SDK threw to a Temporal failure: wrong requests do not retry, transport
 * trouble does (by the step's retry policy), and cancellation stays cancellation.
 */
export function toFailure(err: unknown, what: string): Error {
  if (err instanceof CancelledFailure || err instanceof ApplicationFailure) return err;
  if (err instanceof McpUnknownServerError) return fail('McpUnknownServer', err.message, true);
  if (err instanceof McpUnknownToolError) {
    return fail('McpUnknownTool', err.message, true, { available: err.available.map((t) => `${err.server}.${t}`) });
  }
  if (err instanceof McpAuthError) return fail('McpAuthError', err.message, true, { status: err.status });
  if (err instanceof McpConnectBackoffError) {
    // Retried when the pool will try again, not before.
    return fail('McpConnectBackoff', err.message, false, { failures: err.failures }, err.retryInMs);
  }
  if (err instanceof McpConnectError || err instanceof McpPoolClosedError) {
    return fail('McpTransportError', err.message, false);
  }
  if (err instanceof McpError) {
    if (err.code === ErrorCode.ConnectionClosed || err.code === ErrorCode.RequestTimeout) {
      return fail('McpTransportError', `${what}: ${err.message}`, false);
    }
    if (REQUEST_ERRORS.has(err.code))
      return fail('McpProtocolError', `${what}: ${err.message}`, true, { code: err.code });
    return fail('McpServerError', `${what}: ${err.message}`, false, { code: err.code });
  }
  const status = authStatus(err);
  if (status !== undefined) {
    return fail('McpAuthError', `${what}: the server refused the credentials (HTTP ${status})`, true, { status });
  }
  if (err instanceof StreamableHTTPError || err instanceof SseError) {
    return fail('McpTransportError', `${what}: ${err.message}`, false, { status: err.code });
  }
  const message = err instanceof Error ? err.message : String(err);
  return fail('McpTransportError', `${what}: ${message}`, false);
}
