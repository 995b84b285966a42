/**
 * PLACEHOLDER until the webhooks work lands: the interpreter calls this at each event a webhook
 * may subscribe to. Replaced by the real implementation (one delivery workflow per target).
 */
import type { WebhookEvent, WebhookTarget } from '../run-events';

export async function notifyWebhooks(targets: readonly WebhookTarget[], event: WebhookEvent): Promise<void> {
  void targets;
  void event;
}
