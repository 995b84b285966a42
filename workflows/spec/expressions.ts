/**
 * The expression syntax of specs: `${root.path.to[0].value}` inside any string, optionally with a
 * default after `??`: `${steps.approve.output.comment ?? ''}`.
 * A string that is exactly one expression resolves to the referenced value with its type;
 * otherwise each expression is interpolated as text (objects as JSON).
 *
 * Roots: `inputs.NAME`, `steps.ID.output…`, `steps.ID.status`, and the locals of the
 * enclosing step (`item`, `index` inside a `map`). The default is a literal — a string in single
 * or double quotes, a number, `true`, `false` or `null` — used when the reference names nothing
 * (a missing field, an optional input not given, a step that did not complete) or names `null`.
 * References read only the data's own fields: never a prototype member such as `constructor`.
 */
export interface Reference {
  /** The text between `${` and `}`, trimmed (default included). */
  text: string;
  root: string;
  path: Array<string | number>;
  /** The literal after `??`, when there is one. */
  fallback?: { value: unknown };
}

/**
 * Spec data that an expression cannot be resolved against: malformed text (`invalid`), a reference
 * that names nothing (`missing`, which `??` answers), or a value of the wrong shape. The
 * interpreter turns it into a typed failure naming the step; validation into a field error.
 */
export class ExpressionError extends Error {
  /** Where in the resolved value the expression sits, e.g. `comment` or `[1].url` (set by resolveValue). */
  field?: string;

  constructor(
    /** The expression as written, `${...}` included. */
    readonly expression: string,
    readonly reason: string,
    readonly problem: 'invalid' | 'missing' = 'missing',
  ) {
    super(`${problem === 'invalid' ? 'invalid ' : ''}expression "${expression}": ${reason}`);
    this.name = 'ExpressionError';
  }

  /** The message with a place added, e.g. `expression "${x}" in step "a": no "y" in {}`. */
  at(where: string): string {
    return `${this.problem === 'invalid' ? 'invalid ' : ''}expression "${this.expression}" in ${where}: ${this.reason}`;
  }
}

const SEGMENT_RE = /\.([A-Za-z_][\w-]*)|\[(\d+)\]/y;
const ROOT_RE = /^[A-Za-z_][\w-]*/;
const NUMBER_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const LITERAL_HELP = 'a string in quotes (\'\' or ""), a number, true, false or null';

/** Where `??` splits `text`, outside quotes; -1 when it does not. */
function defaultOperatorAt(text: string): number {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '?' && text[i + 1] === '?') return i;
  }
  return -1;
}

function parseLiteral(literal: string, expression: string): unknown {
  const invalid = (why: string) => new ExpressionError(expression, why, 'invalid');
  if (literal === '') throw invalid(`a default must follow ??: ${LITERAL_HELP}`);
  if (literal === 'true') return true;
  if (literal === 'false') return false;
  if (literal === 'null') return null;
  if (NUMBER_RE.test(literal)) return Number(literal);
  if (literal.length >= 2 && literal.startsWith("'") && literal.endsWith("'") && !literal.slice(1, -1).includes("'"))
    return literal.slice(1, -1);
  if (literal.startsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(literal);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // Reported below with the allowed forms.
    }
  }
  throw invalid(`the default after ?? must be a literal, ${LITERAL_HELP}; got ${literal}`);
}

export function parseReference(text: string): Reference {
  const expression = `\${${text}}`;
  const split = defaultOperatorAt(text);
  const body = (split < 0 ? text : text.slice(0, split)).trim();
  const root = ROOT_RE.exec(body);
  if (!root) throw new ExpressionError(expression, 'expected a name such as inputs.x or steps.id.output', 'invalid');
  const path: Array<string | number> = [];
  SEGMENT_RE.lastIndex = root[0].length;
  while (SEGMENT_RE.lastIndex < body.length) {
    const start = SEGMENT_RE.lastIndex;
    const m = SEGMENT_RE.exec(body);
    if (!m) throw new ExpressionError(expression, `at "${body.slice(start)}"`, 'invalid');
    path.push(m[1] !== undefined ? m[1] : Number(m[2]));
  }
  const ref: Reference = { text: text.trim(), root: root[0], path };
  if (split >= 0) ref.fallback = { value: parseLiteral(text.slice(split + 2).trim(), expression) };
  return ref;
}

interface Found {
  start: number;
  /** Just past the closing `}`. */
  end: number;
  body: string;
}

/**
 * The `${...}` expressions of a string. Quotes inside one may hold `}`; a `${` with no `}` after
 * it is plain text.
 */
function scan(s: string): Found[] {
  const found: Found[] = [];
  let start = s.indexOf('${');
  while (start !== -1) {
    let quote: string | undefined;
    let i = start + 2;
    for (; i < s.length; i++) {
      const c = s[i];
      if (quote) {
        if (c === '\\' && quote === '"') i++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '}') break;
    }
    if (i >= s.length) {
      if (quote && s.indexOf('}', start) !== -1)
        throw new ExpressionError(`${s.slice(start)}`, `unterminated ${quote} string`, 'invalid');
      break;
    }
    found.push({ start, end: i + 1, body: s.slice(start + 2, i) });
    start = s.indexOf('${', i + 1);
  }
  return found;
}

/** Every reference in a JSON value (strings at any depth). `skip` holds sub-values not to enter. */
export function findReferences(value: unknown, skip: ReadonlySet<unknown> = new Set()): Reference[] {
  const refs: Reference[] = [];
  const visit = (v: unknown): void => {
    if (skip.has(v)) return;
    if (typeof v === 'string') {
      for (const f of scan(v)) refs.push(parseReference(f.body));
    } else if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (v !== null && typeof v === 'object') {
      Object.values(v).forEach(visit);
    }
  };
  visit(value);
  return refs;
}

/** A field of plain JSON data: own properties only, array elements by index (and `length`). */
function fieldOf(current: unknown, seg: string | number): { value: unknown } | undefined {
  if (current === null || typeof current !== 'object') return undefined;
  if (Array.isArray(current)) {
    if (typeof seg === 'number') return seg < current.length ? { value: current[seg] } : undefined;
    return seg === 'length' ? { value: current.length } : undefined;
  }
  const key = String(seg);
  return Object.prototype.hasOwnProperty.call(current, key)
    ? { value: (current as Record<string, unknown>)[key] }
    : undefined;
}

/** Follows `path` into `base`; throws a `missing` ExpressionError naming the segment that is not there. */
export function walkPath(base: unknown, path: ReadonlyArray<string | number>, text: string): unknown {
  let current = base;
  for (const seg of path) {
    const next = fieldOf(current, seg);
    if (!next) throw new ExpressionError(`\${${text}}`, `no "${seg}" in ${describe(current)}`);
    current = next.value;
  }
  return current;
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  const json = JSON.stringify(v) ?? String(v);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** A reference's value: `lookup`'s answer, or the default when that names nothing or null. */
function evaluate(ref: Reference, lookup: (ref: Reference) => unknown): unknown {
  let value: unknown;
  try {
    value = lookup(ref);
  } catch (err) {
    if (ref.fallback && err instanceof ExpressionError && err.problem === 'missing') return ref.fallback.value;
    throw err;
  }
  return value === null && ref.fallback ? ref.fallback.value : value;
}

/**
 * Replaces every expression in a JSON value using `lookup`, which throws a `missing`
 * ExpressionError when a reference names nothing. An ExpressionError leaves with `field` set.
 */
export function resolveValue(value: unknown, lookup: (ref: Reference) => unknown, field = ''): unknown {
  try {
    if (typeof value === 'string') {
      const found = scan(value);
      const whole = found.length === 1 && found[0]!.start === 0 && found[0]!.end === value.length;
      if (whole) return evaluate(parseReference(found[0]!.body), lookup);
      let text = '';
      let from = 0;
      for (const f of found) {
        const v = evaluate(parseReference(f.body), lookup);
        text += value.slice(from, f.start) + (typeof v === 'string' ? v : JSON.stringify(v));
        from = f.end;
      }
      return found.length ? text + value.slice(from) : value;
    }
  } catch (err) {
    if (err instanceof ExpressionError) err.field ??= field;
    throw err;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveValue(v, lookup, `${field}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveValue(v, lookup, field ? `${field}.${k}` : k)]),
    );
  }
  return value;
}
