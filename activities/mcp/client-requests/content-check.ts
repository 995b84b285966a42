/**
 * An elicitation answer against the schema the server asked for: the API refuses a bad one (400
 * naming the field) and the tool activity checks again before it answers the server.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const compiled = new Map<string, ValidateFunction>();

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  return validate;
}

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
