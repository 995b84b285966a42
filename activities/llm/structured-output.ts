/** Checking a structured reply against the request's JSON Schema, and the message that asks for a repair. */
import type { ValidateFunction } from 'ajv';
import { schemaValidators } from '../json-schema-check';

/** Compiled once per distinct schema; throws with ajv's message when the schema itself is invalid. */
export const validatorFor = schemaValidators({ formats: false });

export type OutputCheck = { ok: true; value: unknown } | { ok: false; errors: string[]; raw: string };

/** Models wrap JSON in code fences now and then; that is not worth a repair. */
function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const trimmed = text.trim();
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/i.exec(trimmed);
  try {
    return { ok: true, value: JSON.parse(fenced ? (fenced[1] as string) : trimmed) };
  } catch (err) {
    return { ok: false, error: `the reply is not valid JSON (${(err as Error).message})` };
  }
}

export function checkOutput(reply: { text: string; object?: unknown }, validate: ValidateFunction): OutputCheck {
  let value = reply.object;
  const raw = reply.object === undefined ? reply.text : JSON.stringify(reply.object);
  if (value === undefined) {
    const parsed = parseJsonText(reply.text);
    if (!parsed.ok) return { ok: false, errors: [parsed.error], raw };
    value = parsed.value;
  }
  if (validate(value)) return { ok: true, value };
  const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`);
  return { ok: false, errors: errors.length ? errors : ['does not match the schema'], raw };
}

export function repairPrompt(errors: string[], schema: Record<string, unknown>): string {
  return [
    'Your reply does not match the required JSON Schema:',
    ...errors.map((e) => `- ${e}`),
    `Reply again with only a JSON value that matches this schema, and nothing else:\n${JSON.stringify(schema)}`,
  ].join('\n');
}
