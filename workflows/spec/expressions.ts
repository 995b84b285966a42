/**
 * The expression syntax of specs: `${root.path.to[0].value}` inside any string.
 * A string that is exactly one expression resolves to the referenced value with its type;
 * otherwise each expression is interpolated as text (objects as JSON).
 *
 * Roots: `inputs.NAME`, `steps.ID.output…`, `steps.ID.status`, and the locals of the
 * enclosing step (`item`, `index` inside a `map`).
 */
export interface Reference {
  /** The text between `${` and `}`. */
  text: string;
  root: string;
  path: Array<string | number>;
}

const EXPR_RE = /\$\{([^}]*)\}/g;
const WHOLE_RE = /^\$\{([^}]*)\}$/;
const SEGMENT_RE = /\.([A-Za-z_][\w-]*)|\[(\d+)\]/y;
const ROOT_RE = /^[A-Za-z_][\w-]*/;

export function parseReference(text: string): Reference {
  const trimmed = text.trim();
  const root = ROOT_RE.exec(trimmed);
  if (!root) throw new Error(`invalid expression "\${${text}}": expected a name such as inputs.x or steps.id.output`);
  const path: Array<string | number> = [];
  SEGMENT_RE.lastIndex = root[0].length;
  while (SEGMENT_RE.lastIndex < trimmed.length) {
    const start = SEGMENT_RE.lastIndex;
    const m = SEGMENT_RE.exec(trimmed);
    if (!m) throw new Error(`invalid expression "\${${text}}" at "${trimmed.slice(start)}"`);
    path.push(m[1] !== undefined ? m[1] : Number(m[2]));
  }
  return { text: trimmed, root: root[0], path };
}

/** Every reference in a JSON value (strings at any depth). `skip` holds sub-values not to enter. */
export function findReferences(value: unknown, skip: ReadonlySet<unknown> = new Set()): Reference[] {
  const refs: Reference[] = [];
  const visit = (v: unknown): void => {
    if (skip.has(v)) return;
    if (typeof v === 'string') {
      for (const m of v.matchAll(EXPR_RE)) refs.push(parseReference(m[1] as string));
    } else if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (v !== null && typeof v === 'object') {
      Object.values(v).forEach(visit);
    }
  };
  visit(value);
  return refs;
}

/** Follows `path` into `base`; throws with the expression text when a segment is missing. */
export function walkPath(base: unknown, path: ReadonlyArray<string | number>, text: string): unknown {
  let current = base;
  for (const seg of path) {
    if (current === null || typeof current !== 'object' || !(seg in (current as object))) {
      throw new Error(`expression "\${${text}}": no "${seg}" in ${describe(current)}`);
    }
    current = (current as Record<string | number, unknown>)[seg];
  }
  return current;
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  const json = JSON.stringify(v);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** Replaces every expression in a JSON value using `lookup`. */
export function resolveValue(value: unknown, lookup: (ref: Reference) => unknown): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_RE.exec(value);
    if (whole) return lookup(parseReference(whole[1] as string));
    return value.replace(EXPR_RE, (_, text: string) => {
      const v = lookup(parseReference(text));
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, lookup));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveValue(v, lookup)]));
  }
  return value;
}
