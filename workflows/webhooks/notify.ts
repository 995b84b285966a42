/**
 * What a run does at each event a webhook may subscribe to: for every target that wants the
 * event, start a `deliverWebhook` child and wait only until it has started. The child is
 * abandoned (it outlives the run, which never waits on a slow receiver) and tagged with the
 * AgentWebhook search attribute, so the API lists a subscription's deliveries from visibility.
 * With no matching target nothing is scheduled and nothing is written to history.
 */
import {
  CancellationScope,
  ParentClosePolicy,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { WebhookEvent, WebhookTarget } from '../contracts/run-events';
import { WEBHOOK_ATTRIBUTE } from '../contracts/run';
import type { deliverWebhook } from './deliver-webhook';
import { DELIVER_WEBHOOK_WORKFLOW, type DeliverWebhookInput } from '../contracts/webhooks';

/** Events this run has notified so far (module state is per workflow execution; replay rebuilds it). */
let notified = 0;

/**
 * A key unique to one event within the run's whole chain, the same on every replay: the event's
 * type and step, its place in the order of events, and the run it came from when the run has
 * continued as new (the count starts again there). Not the run id itself: a reset run replays
 * under a new run id and would then name its earlier children differently.
 */
function eventKey(event: WebhookEvent, seq: number): string {
  const previous = workflowInfo().continuedFromExecutionRunId;
  const chain = previous ? `${previous.slice(0, 8)}-` : '';
  return `${event.type}${event.step ? `:${event.step}` : ''}:${chain}${seq}`;
}

/** The delivery's workflow id, also its `webhook-id`: one per subscription and event. */
export function deliveryWorkflowId(targetId: string, runWorkflowId: string, key: string): string {
  return `webhook:${targetId}:${runWorkflowId}:${key}`;
}

export async function notifyWebhooks(targets: readonly WebhookTarget[], event: WebhookEvent): Promise<void> {
  const seq = ++notified;
  const matching = targets.filter((t) => t.events.includes(event.type));
  if (matching.length === 0) return;
  const key = eventKey(event, seq);
  const runWorkflowId = workflowInfo().workflowId;
  // Not cancellable: run.finished of a cancelled run is still announced.
  await CancellationScope.nonCancellable(() =>
    Promise.all(
      matching.map(async ({ events: _events, ...target }) => {
        const input: DeliverWebhookInput = { target, event };
        try {
          await startChild<typeof deliverWebhook>(DELIVER_WEBHOOK_WORKFLOW, {
            workflowId: deliveryWorkflowId(target.id, runWorkflowId, key),
            args: [input],
            parentClosePolicy: ParentClosePolicy.ABANDON,
            // One delivery per webhook-id, ever: a replayed or reset run cannot send an event twice.
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            typedSearchAttributes: [{ key: WEBHOOK_ATTRIBUTE, value: target.id }],
            staticSummary: `${event.type}${event.step ? ` ${event.step}` : ''} to ${target.url}`,
          });
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
      }),
    ),
  );
}
