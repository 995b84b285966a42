/**
 * What a tool call answers: its structured output (and the same as JSON text, for clients that
 * read only text), or a failure as `isError: true` with a message a model can act on. The
 * messages are the REST API's: an HttpException's message, a Temporal error mapped as the REST
 * exception filter maps it; anything else is logged and reported without detail.
 */
import { HttpException } from '@nestjs/common';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { temporalErrorToHttp } from '../temporal/temporal-errors';

export interface ErrorLogger {
  error(message: string): void;
}

export function toolResult(output: object): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(output, null, 2) }],
    structuredContent: output as Record<string, unknown>,
  };
}

/** A failure as the REST API would answer it: its status and `Conflict (409): step "approve" is not waiting`. */
export function failureOf(err: unknown, logger: ErrorLogger): { status: number; message: string } {
  if (err instanceof HttpException) {
    const response = err.getResponse();
    const body = typeof response === 'string' ? { message: response } : (response as Record<string, unknown>);
    const message = typeof body.message === 'string' ? body.message : err.message;
    const issues = Array.isArray(body.issues) ? (body.issues as Array<{ path: string; message: string }>) : [];
    const detail = issues.length > 1 ? `\n${issues.map((i) => `- ${i.path}: ${i.message}`).join('\n')}` : '';
    const status = err.getStatus();
    return { status, message: `${reason(status, err.name)}: ${message}${detail}` };
  }
  const mapped = temporalErrorToHttp(err);
  if (mapped)
    return { status: mapped.statusCode, message: `${reason(mapped.statusCode, mapped.error)}: ${mapped.message}` };
  logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return { status: 500, message: 'Internal error: the server logged it; retry later or report it' };
}

export function toolError(failure: { message: string }): CallToolResult {
  return { content: [{ type: 'text', text: failure.message }], isError: true };
}

const REASONS: Record<number, string> = {
  400: 'Invalid request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  503: 'Unavailable',
  504: 'Timed out',
};

function reason(status: number, fallback: string): string {
  return `${REASONS[status] ?? fallback} (${status})`;
}
