import { BadRequestException } from '@nestjs/common';
import type { FieldIssue } from '../../workflows/spec/schema';

/** HTTP 400 whose body names every wrong field: `{ statusCode, error, message, issues: [{ path, message }] }`. */
export class RequestValidationError extends BadRequestException {
  constructor(readonly issues: FieldIssue[]) {
    const [first] = issues;
    const summary = first ? `${first.path}: ${first.message}` : 'invalid request';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : '';
    super({ statusCode: 400, error: 'Bad Request', message: `${summary}${more}`, issues });
  }
}
