/**
 * The run's webhook events (run.started, approval.requested/escalated/decided, run.finished), sent
 * through notifyWebhooks without holding up the run: a delivery starts while the run goes on, and
 * the run waits for the starts only before it closes or continues as new.
 */
import { log, workflowInfo } from '@temporalio/workflow';
import type { WebhookEvent, WebhookEventType, WebhookTarget } from '../contracts/run-events';
import { errorMessage } from '../steps/errors';
import { notifyWebhooks } from '../webhooks/notify';

export class RunNotices {
  private readonly starting: Array<Promise<void>> = [];

  constructor(private readonly targets: readonly WebhookTarget[]) {}

  /**
   * Whether the run has subscriptions. Runs without any (every run from before webhooks) issue no
   * command and await nothing here, so their histories are unchanged and need no patch.
   */
  get active(): boolean {
    return this.targets.length > 0;
  }

  emit(type: WebhookEventType, data: Record<string, unknown>, step?: string): void {
    if (!this.active) return;
    const event: WebhookEvent = {
      type,
      workflowId: workflowInfo().workflowId,
      at: new Date().toISOString(),
      ...(step !== undefined && { step }),
      data,
    };
    // A delivery that cannot even start must not fail the run it reports on.
    this.starting.push(
      notifyWebhooks(this.targets, event).catch((err: unknown) =>
        log.warn(`webhook ${type} was not sent: ${errorMessage(err)}`, { step }),
      ),
    );
  }

  /** Waits until every delivery emitted so far has started (before the run closes or continues). */
  async settle(): Promise<void> {
    while (this.starting.length > 0) await Promise.all(this.starting.splice(0));
  }
}
