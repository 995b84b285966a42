/**
 * Where a zod schema cannot say in JSON Schema what it accepts (a refine, a transform of a query
 * string), the document says it through an override registered here, next to the schema. And
 * patterns are rewritten to mean in every regex dialect what they mean in JavaScript.
 */
import type { z } from 'zod';

type JsonSchema = Record<string, unknown>;

const overrides = new WeakMap<object, { json: JsonSchema; replace: boolean }>();

/** Documents `schema` as `json` (which must describe exactly what `schema` accepts). */
export function documentAs<T extends z.ZodType>(schema: T, json: JsonSchema): T {
  overrides.set(schema, { json, replace: true });
  return schema;
}

/** Adds to what zod generates for `schema` what its refinements check (e.g. `minProperties`). */
export function documentAlso<T extends z.ZodType>(schema: T, json: JsonSchema): T {
  overrides.set(schema, { json, replace: false });
  return schema;
}

/**
 * JavaScript's `\d` and `\w` are ASCII; Python's (the fuzzer's) and others' are Unicode. Spell
 * them as ASCII classes so every reader of the document accepts the same strings we do.
 */
export function portablePattern(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) {
      const next = pattern[i + 1] as string;
      i++;
      if (next === 'd') out += inClass ? '0-9' : '[0-9]';
      else if (next === 'w') out += inClass ? 'A-Za-z0-9_' : '[A-Za-z0-9_]';
      else out += `\\${next}`;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return out;
}

/** zod's toJSONSchema `override` hook: applies registered overrides and portable patterns. */
export function applyDocOverrides(ctx: { zodSchema: unknown; jsonSchema: object }): void {
  const json = ctx.jsonSchema as JsonSchema;
  const override = overrides.get(ctx.zodSchema as object);
  if (override?.replace) for (const key of Object.keys(json)) if (key !== 'description') delete json[key];
  if (override) Object.assign(json, override.json);
  if (typeof json.pattern === 'string') json.pattern = portablePattern(json.pattern);
}
