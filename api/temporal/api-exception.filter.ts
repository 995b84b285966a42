import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { temporalErrorToHttp, type HttpErrorBody } from './temporal-errors';

interface JsonResponse {
  status(code: number): JsonResponse;
  json(body: unknown): void;
}

/**
 * Every error leaves as JSON with the right status: Nest's HTTP exceptions as they are, Temporal
 * errors mapped (not found → 404, conflicts → 409, unreachable → 503), anything else a logged 500.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<JsonResponse>();
    const { statusCode, payload } = this.toResponse(err);
    // Every 400 has the ValidationError shape, also those Nest or Temporal raise (e.g. a bad %-escape in a path).
    if (statusCode === 400 && payload !== null && typeof payload === 'object' && !('issues' in payload)) {
      const { message } = payload as { message?: unknown };
      Object.assign(payload, { issues: [{ path: '(request)', message: String(message) }] });
    }
    res.status(statusCode).json(payload);
  }

  private toResponse(err: unknown): { statusCode: number; payload: unknown } {
    if (err instanceof HttpException) {
      const statusCode = err.getStatus();
      const response = err.getResponse();
      const payload =
        typeof response === 'string' ? { statusCode, error: err.name, message: response } : { ...response };
      return { statusCode, payload };
    }
    const mapped = temporalErrorToHttp(err);
    if (mapped) {
      if (mapped.statusCode >= 500) this.logger.warn(`${mapped.statusCode}: ${mapped.message}`);
      return { statusCode: mapped.statusCode, payload: mapped };
    }
    this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    const payload: HttpErrorBody = {
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'internal server error',
    };
    return { statusCode: 500, payload };
  }
}
