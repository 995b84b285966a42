import { z } from 'zod';
import { specNameSchema } from '../../workflows/spec/schema';

// Also keeps route parameters such as `..` from reaching the spec store as paths.
export { specNameSchema };

const positiveIntString = z
  .string()
  .regex(/^[1-9]\d{0,8}$/, 'must be a positive integer')
  .transform(Number);

export const getSpecQuerySchema = z.strictObject({
  version: positiveIntString.optional(),
});
export type GetSpecQuery = z.infer<typeof getSpecQuerySchema>;
