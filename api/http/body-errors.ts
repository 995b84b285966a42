/**
 * Errors of the JSON body parser (express's body-parser) as this API's JSON error bodies. Left
 * to Nest, only its SyntaxError becomes a 400; "too large" or "unsupported charset" would be 500s.
 */
import type { HttpErrorBody } from '../temporal/temporal-errors';

interface BodyParserError extends Error {
  /** body-parser's error kind, e.g. `entity.too.large`. */
  type: string;
  status?: number;
  length?: number;
  limit?: number;
  charset?: string;
  encoding?: string;
}

export function isBodyParserError(err: unknown): err is BodyParserError {
  return err instanceof Error && typeof (err as Partial<BodyParserError>).type === 'string';
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 413: 'Payload Too Large', 415: 'Unsupported Media Type' };

export function bodyParserErrorToHttp(err: BodyParserError): HttpErrorBody & { issues?: unknown[] } {
  switch (err.type) {
    case 'entity.parse.failed': {
      const message = `not valid JSON: ${err.message}`;
      return {
        statusCode: 400,
        error: REASONS[400]!,
        message: `(body): ${message}`,
        issues: [{ path: '(body)', message }],
      };
    }
    case 'entity.too.large':
      return {
        statusCode: 413,
        error: REASONS[413]!,
        message: `the body is ${err.length ?? 'more than the limit of'} bytes; the limit is ${err.limit} bytes (API_BODY_LIMIT)`,
      };
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return { statusCode: 415, error: REASONS[415]!, message: err.message };
    default: {
      // request.aborted, request.size.invalid, ...: the request itself was broken.
      const message = err.message;
      return {
        statusCode: 400,
        error: REASONS[400]!,
        message: `(body): ${message}`,
        issues: [{ path: '(body)', message }],
      };
    }
  }
}
