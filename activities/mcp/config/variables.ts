import { type ConfigProblem, formatKey } from './keys';

const VARIABLE_RE = /\$\{([^}]*)\}/g;
const NAME_RE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * Expands `${NAME}` and `${NAME:-default}` in every string of `value` from `vars`. A variable that
 * is unset and has no default is reported with the key of the string that used it.
 */
export function expandVariables(
  value: unknown,
  vars: Readonly<Record<string, string | undefined>>,
  path: PropertyKey[],
  problems: ConfigProblem[],
): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE_RE, (whole, inner: string) => {
      const m = NAME_RE.exec(inner);
      if (!m) {
        problems.push({
          key: formatKey(path),
          message: `"${whole}" is not a variable reference (use \${NAME} or \${NAME:-default})`,
        });
        return whole;
      }
      const [, name, fallback] = m as unknown as [string, string, string | undefined];
      const found = vars[name];
      if (found !== undefined) return found;
      if (fallback !== undefined) return fallback;
      problems.push({ key: formatKey(path), message: `variable \${${name}} is not set in the environment` });
      return whole;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandVariables(v, vars, [...path, i], problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, expandVariables(v, vars, [...path, k], problems)]),
    );
  }
  return value;
}
