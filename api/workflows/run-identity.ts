/**
 * How a run started through the API is named and recognised: its workflow id, and a hash of the
 * request that started it (kept in the run's memo) so a repeated runId can be told apart from a
 * conflicting one.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../util/canonical-json';
import type { StartRunBody } from './run-requests';

/**
 * `<spec name>:<runId>`. Spec names cannot hold ":" and runIds can hold neither ":" nor ".", so
 * the id splits one way only, and never equals a child run's `<parent id>.<step path>`.
 */
export function runWorkflowId(specName: string, runId: string): string {
  return `${specName}:${runId}`;
}

/** The memo key under which a run keeps its request hash. */
export const REQUEST_HASH_MEMO = 'requestHash';

/** What makes two start requests "the same": the spec asked for (inline, or name and version), inputs, options. */
export function startRequestHash(body: StartRunBody): string {
  const identity = {
    spec: body.spec,
    specName: body.specName,
    specVersion: body.specVersion,
    inputs: body.inputs ?? {},
    options: body.options ?? {},
  };
  return createHash('sha256').update(canonicalJson(identity)).digest('hex');
}
