import type { z } from 'zod';

/** A configuration error that names the offending key; start-up code prints it and exits. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: Array<{ key: string; message: string }>,
  ) {
    super(`invalid configuration in ${source}:\n${problems.map((p) => `  - ${p.key}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses `raw` with `schema`, turning failures into a ConfigError whose keys are `keyOf(path)`. */
export function parseConfig<T>(
  schema: z.ZodType<T>,
  raw: unknown,
  source: string,
  keyOf: (path: ReadonlyArray<PropertyKey>) => string = (p) => p.map(String).join('.'),
): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(
    source,
    result.error.issues.map((i) => ({ key: keyOf(i.path), message: i.message })),
  );
}

/** A zod issue path as a key: `steps[2].branches[0][1].duration`, `devices[0].baudRate`; `(root)` when empty. */
export function formatPath(path: ReadonlyArray<PropertyKey>, base = ''): string {
  let out = base;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}
