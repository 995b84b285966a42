import { z } from 'zod';
import { documentAs } from '../openapi/doc-overrides';

/** An integer query parameter in [min, max]: plain decimal digits, documented as an integer. */
export function intQueryParam(min: number, max: number): z.ZodType<number, string> {
  const message = `must be an integer from ${min} to ${max}`;
  const schema = z
    .string()
    .regex(/^(0|[1-9][0-9]{0,15})$/, message)
    .transform(Number)
    .pipe(z.number().min(min, message).max(max, message));
  return documentAs(schema, { type: 'integer', minimum: min, maximum: max });
}
