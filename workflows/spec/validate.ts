/**
 * Spec validation: the schema, then what a schema cannot say — unique ids, references that
 * point at steps which have finished by then, no cycles. Pure; used by the API at submit time
 * and by the interpreter again before it runs anything.
 */
import { STEP_KINDS, stepKindOf } from '../steps';
import type { InputDecl, Spec, Step } from '../contracts/spec';
import { findReferences, type Reference } from './expressions';
import { formatPath } from '../../config/config-errors';
import {
  SPEC_LIMIT_CEILINGS,
  specSchema,
  specSchemaOfKinds,
  zodIssues,
  type FieldIssue,
  type SpecLimits,
} from './schema';

export type SpecValidation = { ok: true; spec: Spec } | { ok: false; issues: FieldIssue[] };

/**
 * `limits` defaults to the ceilings: the API passes the limits it is configured with, the
 * interpreter keeps the default so it never refuses what any configuration admitted.
 */
export function validateSpec(raw: unknown, base = '', limits: SpecLimits = SPEC_LIMIT_CEILINGS): SpecValidation {
  const tooBig = checkSpecLimits(raw, base, limits);
  if (tooBig) return { ok: false, issues: [tooBig] };
  const parsed = specSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error, base) };
  const issues = checkSemantics(parsed.data, base);
  return issues.length ? { ok: false, issues } : { ok: true, spec: parsed.data };
}

/**
 * validateSpec (at the limit ceilings) for a caller that checks one spec and is gone: a workflow,
 * whose modules, schemas included, are built afresh for every run. It builds the schemas of the
 * step kinds the spec names only, and parses without zod's generated fast path (compiled per
 * schema, paid back only over many parses). A spec that fails is checked again by validateSpec,
 * so the issues are exactly its issues; one that passes would pass it the same (a step's schema
 * is its kind's, whichever other kinds the union holds).
 */
export function validateSpecOnce(raw: unknown): SpecValidation {
  if (checkSpecLimits(raw)) return validateSpec(raw);
  const kinds = kindsNamed(raw);
  if (kinds.size === 0) return validateSpec(raw);
  const parsed = specSchemaOfKinds(kinds).safeParse(raw, { jitless: true });
  if (!parsed.success) return validateSpec(raw);
  const issues = checkSemantics(parsed.data, '');
  return issues.length ? { ok: false, issues } : { ok: true, spec: parsed.data };
}

/** Every known step kind named by a `kind` field anywhere in `raw` (walked with a stack, as checkSpecLimits). */
function kindsNamed(raw: unknown): Set<Step['kind']> {
  const kinds = new Set<Step['kind']>();
  const stack: unknown[] = [raw];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      for (const v of value) stack.push(v);
      continue;
    }
    const { kind } = value as { kind?: unknown };
    if (typeof kind === 'string' && Object.hasOwn(STEP_KINDS, kind)) kinds.add(kind as Step['kind']);
    for (const v of Object.values(value)) stack.push(v);
  }
  return kinds;
}

interface WalkFrame {
  value: unknown;
  parent?: WalkFrame;
  key?: string | number;
  /** Arrays and objects above this value. */
  nesting: number;
  /** Steps above this value (itself included once it is one). */
  stepDepth: number;
}

function framePath(frame: WalkFrame, base: string): string {
  const segments: Array<string | number> = [];
  for (let f: WalkFrame | undefined = frame; f?.key !== undefined; f = f.parent) segments.push(f.key);
  return formatPath(segments.reverse(), base);
}

/** An element of a step list: an object with an `id` and a known `kind` (counted before the schema is checked). */
function isStepLike(value: object, inArray: boolean): boolean {
  const { id, kind } = value as { id?: unknown; kind?: unknown };
  return inArray && typeof id === 'string' && typeof kind === 'string' && Object.hasOwn(STEP_KINDS, kind);
}

/**
 * The first place where `raw` breaks a size limit, found by an explicit-stack walk (no
 * recursion, so no depth can overflow it); undefined when it is within every limit.
 */
export function checkSpecLimits(
  raw: unknown,
  base = '',
  limits: SpecLimits = SPEC_LIMIT_CEILINGS,
): FieldIssue | undefined {
  const stack: WalkFrame[] = [{ value: raw, nesting: 0, stepDepth: 0 }];
  let steps = 0;
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    const { value } = frame;
    if (value === null || typeof value !== 'object') continue;
    if (isStepLike(value, Array.isArray(frame.parent?.value))) {
      steps += 1;
      frame.stepDepth += 1;
      if (steps > limits.maxSteps) {
        return { path: framePath(frame, base), message: `more than ${limits.maxSteps} steps (limit maxSteps)` };
      }
      if (frame.stepDepth > limits.maxStepDepth) {
        return {
          path: framePath(frame, base),
          message: `steps nested more than ${limits.maxStepDepth} deep (limit maxStepDepth)`,
        };
      }
    }
    if (frame.nesting >= limits.maxNesting) {
      return {
        path: framePath(frame, base),
        message: `arrays and objects nested more than ${limits.maxNesting} deep (limit maxNesting)`,
      };
    }
    const entries: Array<[string | number, unknown]> = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.entries(value);
    // Reversed, so the walk meets values in document order and reports the first offender.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string | number, unknown];
      if (child !== null && typeof child === 'object') {
        stack.push({ value: child, parent: frame, key, nesting: frame.nesting + 1, stepDepth: frame.stepDepth });
      }
    }
  }
  return undefined;
}

/** Where a JSON value nests deeper than `maxNesting` arrays and objects (e.g. run inputs); undefined if it does not. */
export function checkNesting(value: unknown, maxNesting: number, base = ''): FieldIssue | undefined {
  return checkSpecLimits(value, base, { maxNesting, maxSteps: Infinity, maxStepDepth: Infinity });
}

interface Located {
  step: Step;
  path: string;
}

/** Path inside `obj` of the value `target` (by identity), e.g. `branches[1]`. */
function locate(obj: unknown, target: unknown, path = ''): string | undefined {
  if (obj === target) return path;
  if (obj === null || typeof obj !== 'object') return undefined;
  for (const [k, v] of Object.entries(obj)) {
    const sub = Array.isArray(obj) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
    const found = locate(v, target, sub);
    if (found !== undefined) return found;
  }
  return undefined;
}

export function nestedLists(step: Step): Array<{ list: Step[]; path: string }> {
  const nested = stepKindOf(step).nested?.(step);
  return (nested?.lists ?? []).map((list) => ({ list, path: locate(step, list) ?? '?' }));
}

function nestedSet(step: Step): Set<unknown> {
  return new Set(stepKindOf(step).nested?.(step).lists ?? []);
}

/** Refs a step makes in its own fields (nested step lists excluded). */
function ownReferences(step: Step): Reference[] {
  return findReferences(step, nestedSet(step));
}

function allSteps(list: Step[], path: string, out: Located[] = []): Located[] {
  list.forEach((step, i) => {
    const p = `${path}[${i}]`;
    out.push({ step, path: p });
    for (const n of nestedLists(step)) allSteps(n.list, `${p}.${n.path}`, out);
  });
  return out;
}

function checkSemantics(spec: Spec, base: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const root = base ? `${base}.steps` : 'steps';
  const located = allSteps(spec.steps, root);
  const byId = new Map<string, Located>();
  for (const l of located) {
    const first = byId.get(l.step.id);
    if (first)
      issues.push({ path: `${l.path}.id`, message: `duplicate step id "${l.step.id}" (first at ${first.path})` });
    else byId.set(l.step.id, l);
  }

  // Malformed `${...}` text is a field error, found before any reference is followed.
  const syntax = [
    ...located.map((l) => ({ value: l.step as unknown, path: l.path, skip: nestedSet(l.step) })),
    { value: spec.output, path: base ? `${base}.output` : 'output', skip: new Set<unknown>() },
  ];
  for (const { value, path, skip } of syntax) {
    try {
      findReferences(value, skip);
    } catch (err) {
      issues.push({ path, message: (err as Error).message });
    }
  }
  if (issues.length) return issues;

  const cycle = findCycle(located);
  if (cycle) {
    const at = byId.get(cycle[0] as string)?.path ?? root;
    issues.push({ path: at, message: `steps reference each other in a cycle: ${cycle.join(' → ')}` });
    return issues;
  }

  const inputs = spec.inputs ?? {};
  const checkRef = (ref: Reference, path: string, available: ReadonlySet<string>, locals: ReadonlySet<string>) => {
    const fail = (message: string) => issues.push({ path, message: `\${${ref.text}}: ${message}` });
    if (ref.root === 'inputs') {
      const name = ref.path[0];
      if (typeof name !== 'string') fail('name an input, e.g. ${inputs.env}');
      else if (!Object.prototype.hasOwnProperty.call(inputs, name))
        fail(`unknown input "${name}" (declared: ${Object.keys(inputs).join(', ') || 'none'})`);
    } else if (ref.root === 'steps') {
      const [id, field] = ref.path;
      if (typeof id !== 'string') return fail('name a step, e.g. ${steps.build.output}');
      if (!byId.has(id)) return fail(`unknown step "${id}"`);
      if (field !== 'output' && field !== 'status') return fail('use steps.<id>.output or steps.<id>.status');
      if (!available.has(id))
        fail(`step "${id}" has not finished at this point (it runs later, alongside, or in another map item)`);
    } else if (!locals.has(ref.root)) {
      const known = ['inputs', 'steps', ...locals].join(', ');
      fail(`unknown name "${ref.root}" (known here: ${known})`);
    }
  };

  // Walk in execution order; `available` holds the ids certain to have finished (or been skipped).
  const walk = (
    list: Step[],
    path: string,
    availableIn: ReadonlySet<string>,
    locals: ReadonlySet<string>,
  ): Set<string> => {
    const available = new Set(availableIn);
    list.forEach((step, i) => {
      const p = `${path}[${i}]`;
      for (const ref of ownReferences(step)) checkRef(ref, p, available, locals);
      const nested = stepKindOf(step).nested?.(step);
      const innerLocals = new Set([...locals, ...(nested?.locals ?? [])]);
      const exported: string[] = [];
      for (const n of nestedLists(step)) {
        const after = walk(n.list, `${p}.${n.path}`, available, innerLocals);
        if (nested?.exported) exported.push(...[...after].filter((id) => !available.has(id)));
      }
      available.add(step.id);
      exported.forEach((id) => available.add(id));
    });
    return available;
  };
  const afterAll = walk(spec.steps, root, new Set(), new Set());
  for (const ref of findReferences(spec.output)) checkRef(ref, base ? `${base}.output` : 'output', afterAll, new Set());

  for (const [name, decl] of Object.entries(inputs)) {
    if (decl.default !== undefined && !matchesType(decl.default, decl.type)) {
      issues.push({
        path: `${base ? `${base}.` : ''}inputs.${name}.default`,
        message: `default must be of type ${decl.type}`,
      });
    }
  }
  return issues;
}

/** Edges: a step → the steps its fields reference; a container also owns its inner steps' refs. */
function findCycle(located: Located[]): string[] | undefined {
  const edges = new Map<string, Set<string>>();
  for (const { step } of located) {
    const deps = new Set<string>();
    for (const ref of findReferences(step)) {
      const id = ref.path[0];
      if (ref.root === 'steps' && typeof id === 'string' && id !== step.id) deps.add(id);
      if (ref.root === 'steps' && id === step.id) return [step.id, step.id];
    }
    edges.set(step.id, deps);
  }
  // Containers depend on their own children by construction; ignore those edges.
  for (const { step } of located) {
    for (const n of nestedLists(step))
      for (const inner of allSteps(n.list, '')) edges.get(step.id)?.delete(inner.step.id);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of edges.get(id) ?? []) {
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of edges.keys()) {
    const found = visit(id);
    if (found) return found;
  }
  return undefined;
}

function matchesType(value: unknown, type: InputDecl['type']): boolean {
  switch (type) {
    case 'array':
      return Array.isArray(value);
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    default:
      return typeof value === type;
  }
}

export type InputsValidation = { ok: true; inputs: Record<string, unknown> } | { ok: false; issues: FieldIssue[] };

/** Checks run inputs against the spec's declarations and fills in defaults. */
export function validateInputs(spec: Spec, given: Record<string, unknown> = {}, base = 'inputs'): InputsValidation {
  const decls = spec.inputs ?? {};
  const issues: FieldIssue[] = [];
  const inputs: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!Object.prototype.hasOwnProperty.call(decls, name))
      issues.push({
        path: `${base}.${name}`,
        message: `unknown input (spec "${spec.name}" declares: ${Object.keys(decls).join(', ') || 'none'})`,
      });
  }
  for (const [name, decl] of Object.entries(decls)) {
    const value = given[name] ?? decl.default;
    if (value === undefined) {
      if (decl.required ?? true)
        issues.push({ path: `${base}.${name}`, message: `required input of type ${decl.type} is missing` });
      continue;
    }
    if (!matchesType(value, decl.type))
      issues.push({ path: `${base}.${name}`, message: `must be of type ${decl.type}` });
    inputs[name] = value;
  }
  return issues.length ? { ok: false, issues } : { ok: true, inputs };
}

/** Names of the specs that `child` steps use, anywhere in the spec. */
export function childSpecNames(spec: Spec): string[] {
  return [...new Set(allSteps(spec.steps, 'steps').flatMap(({ step }) => (step.kind === 'child' ? [step.spec] : [])))];
}

/**
 * Resolves every spec reachable through `child` steps. A spec that reaches itself is a cycle
 * (it would start children forever).
 */
export async function resolveChildSpecs(
  spec: Spec,
  lookup: (name: string) => Promise<Spec | undefined>,
): Promise<{ ok: true; childSpecs: Record<string, Spec> } | { ok: false; issues: FieldIssue[] }> {
  const childSpecs: Record<string, Spec> = {};
  const issues: FieldIssue[] = [];
  const visit = async (current: Spec, chain: string[]): Promise<void> => {
    for (const name of childSpecNames(current)) {
      if (chain.includes(name)) {
        issues.push({ path: 'spec', message: `child specs form a cycle: ${[...chain, name].join(' → ')}` });
        continue;
      }
      let child: Spec | undefined = childSpecs[name];
      if (!child) {
        child = await lookup(name);
        if (!child) {
          issues.push({
            path: 'spec',
            message: `spec "${current.name}" runs child spec "${name}", which is not registered`,
          });
          continue;
        }
        childSpecs[name] = child;
      }
      await visit(child, [...chain, name]);
    }
  };
  await visit(spec, [spec.name]);
  return issues.length ? { ok: false, issues } : { ok: true, childSpecs };
}
