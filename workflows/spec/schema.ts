import { z } from 'zod';
import { STEP_KINDS } from '../steps';
import type { StepKind } from '../steps/step-kind';
import type { InputDecl, Spec, Step } from '../contracts/spec';
import { formatPath } from '../../config/config-errors';

/** The schema of a step of one of `kinds`, nested steps included: a discriminated union on `kind`. */
function stepSchemaOf(kinds: ReadonlyArray<StepKind<Step>>): z.ZodType<Step> {
  const step: z.ZodType<Step> = z.lazy(() =>
    z.discriminatedUnion(
      'kind',
      kinds.map((k) => k.schema(step)) as unknown as [
        z.ZodObject<{ kind: z.ZodLiteral<string> }>,
        ...z.ZodObject<{ kind: z.ZodLiteral<string> }>[],
      ],
    ),
  ) as unknown as z.ZodType<Step>;
  return step;
}

export const stepSchema: z.ZodType<Step> = stepSchemaOf(Object.values(STEP_KINDS) as Array<StepKind<Step>>);

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

/**
 * The highest spec version. Versions are file names in the spec store and numbers in memos and
 * URLs; a bound keeps them exact integers everywhere (2^53 - 1 + 1 is not).
 */
export const MAX_SPEC_VERSION = 1_000_000;
export const specVersionSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_SPEC_VERSION, `must be an integer from 1 to ${MAX_SPEC_VERSION}`);

/**
 * How big a spec may be, checked before anything recursive looks at it (a deep enough spec would
 * otherwise overflow the stack of the schema check, the validator or the interpreter).
 * - maxStepDepth: steps inside steps (a parallel in a map in a branch ... is depth 3);
 * - maxSteps: steps in the whole spec, nested ones included;
 * - maxNesting: arrays and objects inside one another anywhere in the spec (a step level takes
 *   up to 4: a branch step, its cases, a case, its steps), so it must exceed 4 × maxStepDepth.
 */
export interface SpecLimits {
  maxStepDepth: number;
  maxSteps: number;
  maxNesting: number;
}

/** What the API admits unless configured otherwise. */
export const DEFAULT_SPEC_LIMITS: Readonly<SpecLimits> = { maxStepDepth: 32, maxSteps: 10_000, maxNesting: 200 };
/** The most any configuration may allow; also what the interpreter checks, whatever the API admitted. */
export const SPEC_LIMIT_CEILINGS: Readonly<SpecLimits> = { maxStepDepth: 64, maxSteps: 100_000, maxNesting: 400 };

function specSchemaWith(step: z.ZodType<Step>): z.ZodType<Spec> {
  return z.strictObject({
    name: specNameSchema,
    version: specVersionSchema.optional(),
    description: z.string().optional(),
    // [A-Za-z0-9_], not \w: the pattern is published in the OpenAPI document, where \w may mean more.
    inputs: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'input names must be identifiers'), inputDeclSchema)
      .optional(),
    steps: z.array(step).min(1),
    output: z.unknown().optional(),
  });
}

export const specSchema: z.ZodType<Spec> = specSchemaWith(stepSchema);

/**
 * The spec schema with only the step kinds `kinds` (known kind names): what a spec using no other
 * kind passes, it passes exactly as with specSchema. Building every kind's schema is most of the
 * cost of checking a spec once, which a workflow does with schemas built for it alone.
 */
export function specSchemaOfKinds(kinds: Iterable<Step['kind']>): z.ZodType<Spec> {
  return specSchemaWith(stepSchemaOf([...kinds].map((k) => STEP_KINDS[k] as unknown as StepKind<Step>)));
}

/** One problem in a spec or request, with the path of the field it concerns. */
export interface FieldIssue {
  path: string;
  message: string;
}

export function zodIssues(error: z.ZodError, base = ''): FieldIssue[] {
  return error.issues.flatMap((issue) =>
    // One issue per unknown key, at the key itself, so the path names the bad field.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key], base), message: 'unknown field' }))
      : [{ path: formatPath(issue.path, base), message: issue.message }],
  );
}
