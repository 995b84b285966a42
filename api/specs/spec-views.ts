import { z } from 'zod';
import { MAX_SPEC_VERSION } from '../../workflows/spec/schema';

const version = z.number().int().min(1).max(MAX_SPEC_VERSION);

const specRef = z.record(z.string(), z.unknown()).meta({ description: 'The spec (schema: Spec).' });

export const storedSpecViewSchema = z.object({
  name: z.string(),
  version,
  registeredAt: z.string().meta({ description: 'ISO time the version was stored.' }),
  spec: specRef,
});
export type StoredSpecView = z.infer<typeof storedSpecViewSchema>;

export const registerSpecResponseSchema = storedSpecViewSchema.extend({
  created: z.boolean().meta({ description: 'false when the content equals the latest version (nothing stored).' }),
});

export const specSummarySchema = z.object({
  name: z.string(),
  version: version.meta({ description: 'Latest readable version.' }),
  versions: z
    .array(version)
    .meta({ description: 'Every stored version, ascending (a damaged file among them is skipped when read).' }),
  description: z.string().optional(),
  registeredAt: z.string(),
});

export const listSpecsResponseSchema = z.object({ specs: z.array(specSummarySchema) });
export type ListSpecsResponse = z.infer<typeof listSpecsResponseSchema>;
export type RegisterSpecResponse = z.infer<typeof registerSpecResponseSchema>;
