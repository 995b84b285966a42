/**
 * What a run hands on to the executions after it (its continue-as-new run, the child runs of a big
 * fan-out): only the step records that later steps can still read, their outputs only when read,
 * and big outputs as blob references. Decided statically, from the expressions of the steps
 * still to run.
 */
import type { BlobRef } from './contracts/blobs';
import type { Spec } from './contracts/spec';
import type { StepRecord } from './contracts/run';
import { findReferences } from './spec/expressions';

/** Outputs handed on inline in all, at most; bigger sets go to the blob store, largest first. */
export const MAX_CARRIED_INLINE_BYTES = 1024 * 1024;

export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Step ids that `values` read: their outputs (any `steps.<id>.output…`), or only their status. */
export interface Needs {
  outputs: Set<string>;
  statuses: Set<string>;
  inputs: Set<string>;
  /** Other root names: the locals of enclosing steps (`item`, …). */
  locals: Set<string>;
}

export function needsOf(values: unknown[]): Needs {
  const needs: Needs = { outputs: new Set(), statuses: new Set(), inputs: new Set(), locals: new Set() };
  for (const value of values) {
    for (const ref of findReferences(value)) {
      const [first, second] = ref.path;
      if (ref.root === 'steps') {
        if (typeof first !== 'string') continue;
        (second === 'status' ? needs.statuses : needs.outputs).add(first);
      } else if (ref.root === 'inputs') {
        if (typeof first === 'string') needs.inputs.add(first);
      } else needs.locals.add(ref.root);
    }
  }
  return needs;
}

/** What the steps from `next` on, and the run's output, can still read. */
export function needsAfter(spec: Spec, next: number): Needs {
  const needs = needsOf([spec.steps.slice(next), spec.output ?? null]);
  // Without an `output` mapping the run's output is every top-level step's output.
  if (spec.output === undefined) for (const s of spec.steps) needs.outputs.add(s.id);
  return needs;
}

/** A record as progress shows it once its step is done elsewhere: no output, no live detail. */
export function bareRecord(rec: StepRecord): StepRecord {
  const rest = { ...rec };
  delete rest.output;
  delete rest.outputRef;
  delete rest.progress;
  return rest;
}

/**
 * A record as progress and results show it: an output kept in the blob store shows as its
 * reference, so neither grows with outputs a run only loaded to read.
 */
export function shownRecord(rec: StepRecord): StepRecord {
  if (!rec.outputRef || !('output' in rec)) return rec;
  const rest = { ...rec };
  delete rest.output;
  return rest;
}

/**
 * Copies of `records` to hand on, with the outputs `needed` (ids) kept: small ones inline, big
 * ones (over `maxInlineBytes`, or the largest while the inline total is over
 * MAX_CARRIED_INLINE_BYTES) as references from `store`, which is asked once per output.
 */
export async function carryRecords(
  records: Array<[string, StepRecord]>,
  needed: ReadonlySet<string>,
  maxInlineBytes: number,
  store: (path: string, output: unknown) => Promise<BlobRef>,
): Promise<Record<string, StepRecord>> {
  const carried: Record<string, StepRecord> = {};
  const inline: Array<{ path: string; rec: StepRecord; bytes: number }> = [];
  const toStore: Array<{ path: string; rec: StepRecord }> = [];
  for (const [path, rec] of records) {
    carried[path] = bareRecord(rec);
    if (!needed.has(path) || rec.status !== 'completed') continue;
    if (rec.outputRef) carried[path].outputRef = rec.outputRef;
    else {
      const bytes = utf8Length(JSON.stringify(rec.output ?? null));
      if (bytes > maxInlineBytes) toStore.push({ path, rec });
      else inline.push({ path, rec, bytes });
    }
  }
  let total = inline.reduce((sum, x) => sum + x.bytes, 0);
  // Largest first; ties in record order, so every replay decides the same.
  const bySize = inline.map((x, i) => ({ ...x, i })).sort((a, b) => b.bytes - a.bytes || a.i - b.i);
  const spill = new Set<string>();
  for (const x of bySize) {
    if (total <= MAX_CARRIED_INLINE_BYTES) break;
    spill.add(x.path);
    toStore.push(x);
    total -= x.bytes;
  }
  for (const x of inline) if (!spill.has(x.path)) carried[x.path]!.output = x.rec.output;
  const refs = await Promise.all(toStore.map((x) => store(x.path, x.rec.output ?? null)));
  toStore.forEach((x, i) => {
    const ref = refs[i] as BlobRef;
    // The live record keeps its reference too, so the same output is never stored twice.
    x.rec.outputRef = ref;
    carried[x.path]!.outputRef = ref;
  });
  return carried;
}
