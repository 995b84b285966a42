import { Injectable, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { zodIssues } from '../../workflows/spec/schema';
import { RequestValidationError } from './request-validation.error';

/**
 * Parses a body, query or route parameter with a zod schema; the handler receives the parsed
 * value. `base` prefixes issue paths, so a route parameter `name` reports as `name`.
 */
@Injectable()
export class ZodValidationPipe<T> implements PipeTransform<unknown, T> {
  constructor(
    private readonly schema: z.ZodType<T>,
    private readonly base = '',
  ) {}

  transform(value: unknown): T {
    const parsed = this.schema.safeParse(value);
    if (!parsed.success) throw new RequestValidationError(zodIssues(parsed.error, this.base));
    return parsed.data;
  }
}
