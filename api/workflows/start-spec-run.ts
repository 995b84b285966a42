import type { Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { runSpec } from '../../workflows/interpreter';
import type { WebhookTarget } from '../../workflows/contracts/run-events';
import { RUN_SPEC_WORKFLOW, SPEC_NAME_ATTRIBUTE, type RunInput } from '../../workflows/contracts/run';
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
  /** The webhook subscriptions matching the spec now (api/webhooks); they replace any the input carries. */
  webhooks?: readonly WebhookTarget[];
}

/** The input with today's subscriptions in its options (a rerun's input carries its original run's). */
function withWebhooks(input: RunInput, webhooks: readonly WebhookTarget[] | undefined): RunInput {
  if (webhooks === undefined || (webhooks.length === 0 && input.options?.webhooks === undefined)) return input;
  const options = { ...input.options };
  delete options.webhooks;
  return { ...input, options: webhooks.length > 0 ? { ...options, webhooks: [...webhooks] } : options };
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
    args: [withWebhooks(start.input, start.webhooks)],
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
