import { z } from 'zod';
import { documentAs } from '../openapi/doc-overrides';

/**
 * A string of `min`..`max` characters counted as JSON Schema counts them (code points, not
 * UTF-16 units, so an emoji is one), optionally matching `pattern`; documented as exactly that.
 */
export function boundedText(max: number, opts: { min?: number; pattern?: RegExp; message?: string } = {}) {
  const min = opts.min ?? 0;
  const length = (s: string) => [...s].length;
  let schema = z
    .string()
    .refine((s) => length(s) >= min, { message: opts.message ?? `must be at least ${min} characters` })
    .refine((s) => length(s) <= max, { message: `must be at most ${max} characters` });
  if (opts.pattern) schema = schema.regex(opts.pattern, opts.message);
  return documentAs(schema, {
    type: 'string',
    ...(min > 0 && { minLength: min }),
    maxLength: max,
    ...(opts.pattern && { pattern: opts.pattern.source }),
  });
}
