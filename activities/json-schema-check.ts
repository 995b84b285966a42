/** JSON Schema validators compiled once per distinct schema, for structured model output and elicitation answers. */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * A cache of compiled validators on an ajv instance of its own; with `formats`, `format`
 * keywords (email, uri, date...) are checked too. The returned function throws with ajv's
 * message when a schema itself is invalid.
 */
export function schemaValidators(opts: { formats: boolean }): (schema: Record<string, unknown>) => ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false });
  if (opts.formats) addFormats(ajv);
  const compiled = new Map<string, ValidateFunction>();
  return (schema) => {
    const key = JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(schema);
      compiled.set(key, validate);
    }
    return validate;
  };
}
