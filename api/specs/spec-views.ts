import { z } from 'zod';

const specRef = z.record(z.string(), z.unknown()).meta({ description: 'The spec (schema: Spec).' });

export const storedSpecViewSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  registeredAt: z.string().meta({ description: 'ISO time the version was stored.' }),
  spec: specRef,
});
export type StoredSpecView = z.infer<typeof storedSpecViewSchema>;

export const registerSpecResponseSchema = storedSpecViewSchema.extend({
  created: z.boolean().meta({ description: 'false when the content equals the latest version (nothing stored).' }),
});

export const specSummarySchema = z.object({
  name: z.string(),
  version: z.number().int().meta({ description: 'Latest version.' }),
  versions: z.array(z.number().int()),
  description: z.string().optional(),
  registeredAt: z.string(),
});

export const listSpecsResponseSchema = z.object({ specs: z.array(specSummarySchema) });
