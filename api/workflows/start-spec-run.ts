import type { Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { runSpec } from '../../workflows/interpreter';
import { RUN_SPEC_WORKFLOW, SPEC_NAME_ATTRIBUTE, type RunInput } from '../../workflows/shared';
import { REQUEST_HASH_MEMO } from './run-identity';

export interface SpecRunStart {
  workflowId: string;
  input: RunInput;
  /** Kept in the memo: a repeated id is the same request only if its hash matches. */
  requestHash: string;
  /** Shown as the run's summary in the Web UI. */
  summary: string;
  memo?: Record<string, unknown>;
  searchAttributes?: SearchAttributePair[];
}

/**
 * Starts a spec run the way every API route does: FAIL on an id already used (running or closed),
 * so "already started" means exactly that this request did not start it; the spec's name and
 * version in memo and search attributes.
 */
export function startSpecRun(client: Client, taskQueue: string, start: SpecRunStart) {
  const { spec } = start.input;
  return client.workflow.start<typeof runSpec>(RUN_SPEC_WORKFLOW, {
    taskQueue,
    workflowId: start.workflowId,
    args: [start.input],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    memo: {
      spec: spec.name,
      ...(spec.version !== undefined && { specVersion: spec.version }),
      [REQUEST_HASH_MEMO]: start.requestHash,
      ...start.memo,
    },
    typedSearchAttributes: [{ key: SPEC_NAME_ATTRIBUTE, value: spec.name }, ...(start.searchAttributes ?? [])],
    staticSummary: start.summary,
  });
}
