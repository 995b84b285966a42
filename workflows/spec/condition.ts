import { z } from 'zod';
import { type Condition } from '../contracts/spec';

const pair = z.tuple([z.unknown(), z.unknown()]);

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ eq: pair }),
    z.strictObject({ ne: pair }),
    z.strictObject({ gt: pair }),
    z.strictObject({ gte: pair }),
    z.strictObject({ lt: pair }),
    z.strictObject({ lte: pair }),
    z.strictObject({ in: pair }),
    z.strictObject({ truthy: z.unknown() }),
    z.strictObject({ and: z.array(conditionSchema).min(1) }),
    z.strictObject({ or: z.array(conditionSchema).min(1) }),
    z.strictObject({ not: conditionSchema }),
  ]),
) as z.ZodType<Condition>;

/** Operands a condition cannot compare; the interpreter fails the step with type ConditionError. */
export class ConditionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConditionError';
  }
}

/** A value in an error message: JSON, cut short. */
function brief(v: unknown): string {
  const json = JSON.stringify(v) ?? String(v);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** Deep equality for JSON values. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new ConditionError(`cannot compare ${brief(a)} with ${brief(b)}: both must be numbers or both strings`);
}

/** Evaluates a condition whose operands were already resolved by `resolve`. */
export function evaluateCondition(cond: Condition, resolve: (v: unknown) => unknown): boolean {
  if ('and' in cond) return cond.and.every((c) => evaluateCondition(c, resolve));
  if ('or' in cond) return cond.or.some((c) => evaluateCondition(c, resolve));
  if ('not' in cond) return !evaluateCondition(cond.not, resolve);
  if ('truthy' in cond) return Boolean(resolve(cond.truthy));
  if ('in' in cond) {
    const [needle, haystack] = cond.in.map(resolve) as [unknown, unknown];
    if (!Array.isArray(haystack))
      throw new ConditionError(`the second operand of "in" must be a list, got ${brief(haystack)}`);
    return haystack.some((h) => jsonEqual(h, needle));
  }
  const [op, operands] = Object.entries(cond)[0] as [string, [unknown, unknown]];
  const [a, b] = operands.map(resolve) as [unknown, unknown];
  switch (op) {
    case 'eq':
      return jsonEqual(a, b);
    case 'ne':
      return !jsonEqual(a, b);
    case 'gt':
      return compare(a, b) > 0;
    case 'gte':
      return compare(a, b) >= 0;
    case 'lt':
      return compare(a, b) < 0;
    default:
      return compare(a, b) <= 0;
  }
}
