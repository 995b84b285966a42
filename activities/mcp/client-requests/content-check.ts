/**
 * An elicitation answer against the schema the server asked for: the API refuses a bad one (400
 * naming the field) and the tool activity checks again before it answers the server.
 */
import type { ValidateFunction } from 'ajv';
import { schemaValidators } from '../../json-schema-check';

// Elicitation schemas use formats (email, uri, date...): the answer is checked against them.
const validatorFor = schemaValidators({ formats: true });

/** What is wrong with `content`, each as `content.<field>: <message>`; empty when it matches. */
export function contentProblems(schema: Record<string, unknown>, content: unknown): string[] {
  let validate: ValidateFunction;
  try {
    validate = validatorFor(schema);
  } catch (err) {
    return [`content: the requested schema cannot be checked (${(err as Error).message})`];
  }
  if (validate(content)) return [];
  return (validate.errors ?? []).map((e) => {
    const missing = e.keyword === 'required' ? (e.params as { missingProperty?: string }).missingProperty : undefined;
    const field = missing ?? e.instancePath.slice(1).replaceAll('/', '.');
    return `content${field ? `.${field}` : ''}: ${e.message ?? 'is invalid'}`;
  });
}
