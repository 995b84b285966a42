import { z } from 'zod';
import { STEP_KINDS } from '../steps';
import type { InputDecl, Spec } from '../shared';
import type { Step } from './types';

export const stepSchema: z.ZodType<Step> = z.lazy(() => {
  const kinds = Object.values(STEP_KINDS).map((k) => k.schema(stepSchema));
  return z.discriminatedUnion(
    'kind',
    kinds as unknown as [z.ZodObject<{ kind: z.ZodLiteral<string> }>, ...z.ZodObject<{ kind: z.ZodLiteral<string> }>[]],
  );
}) as unknown as z.ZodType<Step>;

export const inputDeclSchema: z.ZodType<InputDecl> = z.strictObject({
  type: z.enum(['string', 'number', 'boolean', 'object', 'array']),
  description: z.string().optional(),
  default: z.unknown().optional(),
  required: z.boolean().optional(),
});

/** Spec names double as workflow-id prefixes and spec-store folder names: keep them plain. */
export const SPEC_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}$/;
export const specNameSchema = z
  .string()
  .regex(SPEC_NAME_PATTERN, 'spec name must be lower-case letters, digits, ".", "_" or "-" (max 100)');

export const specSchema: z.ZodType<Spec> = z.strictObject({
  name: specNameSchema,
  version: z.number().int().min(1).optional(),
  description: z.string().optional(),
  inputs: z.record(z.string().regex(/^[A-Za-z_]\w*$/, 'input names must be identifiers'), inputDeclSchema).optional(),
  steps: z.array(stepSchema).min(1),
  output: z.unknown().optional(),
});

/** One problem in a spec or request, with the path of the field it concerns. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** `steps[2].branches[0][1].duration` from zod's path array. */
export function formatPath(path: ReadonlyArray<PropertyKey>, base = ''): string {
  let out = base;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}

export function zodIssues(error: z.ZodError, base = ''): FieldIssue[] {
  return error.issues.flatMap((issue) =>
    // One issue per unknown key, at the key itself, so the path names the bad field.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key], base), message: 'unknown field' }))
      : [{ path: formatPath(issue.path, base), message: issue.message }],
  );
}
