import { z } from 'zod';
import { MAX_SPEC_VERSION, specNameSchema } from '../../workflows/spec/schema';
import { intQueryParam } from '../validation/query-params';

// Also keeps route parameters such as `..` from reaching the spec store as paths.
export { specNameSchema };

export const getSpecQuerySchema = z.strictObject({
  version: intQueryParam(1, MAX_SPEC_VERSION).optional(),
});
export type GetSpecQuery = z.infer<typeof getSpecQuerySchema>;
