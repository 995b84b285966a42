/**
 * One event to one subscription, until the receiver answers 2xx or the retries run out. The
 * workflow drives the retries itself (each attempt is one activity run with no retry of its
 * own), so every attempt's outcome is in history and in the memo the API lists; Temporal's
 * activity retries would keep only the last failure. Waits are durable timers: a worker restart
 * during a backoff loses nothing, and the next attempt runs on whichever worker is up.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  sleep,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import {
  DEFAULT_WEBHOOK_RETRY,
  DELIVERY_FAILED,
  DELIVERY_MEMO,
  RECORDED_ATTEMPTS,
  retryDelayMs,
  type DeliverWebhookInput,
  type DeliveryAttempt,
  type DeliveryFailureDetails,
  type DeliveryRecord,
  type WebhookDeliveryActivities,
} from '../contracts/webhooks';

/** One attempt's limit; the activity's own request timeout is shorter (activities/webhooks). */
const ATTEMPT_TIMEOUT_MS = 60_000;

const { deliverWebhook: sendWebhook } = proxyActivities<WebhookDeliveryActivities>({
  startToCloseTimeout: ATTEMPT_TIMEOUT_MS,
  // The loop below retries: one activity run per attempt, each recorded.
  retry: { maximumAttempts: 1 },
});

function failedAttempt(attempt: number, at: string, err: ActivityFailure): DeliveryAttempt & { final: boolean } {
  const cause = err.cause;
  const details =
    cause instanceof ApplicationFailure ? (cause.details?.[0] as DeliveryFailureDetails | undefined) : undefined;
  return {
    attempt,
    at,
    outcome: 'failed',
    ...(typeof details?.status === 'number' && { status: details.status }),
    error: cause?.message ?? err.message,
    final: cause instanceof ApplicationFailure && cause.nonRetryable === true,
  };
}

export async function deliverWebhook(input: DeliverWebhookInput): Promise<DeliveryRecord> {
  const { target, event } = input;
  const deliveryId = workflowInfo().workflowId;
  const maxAttempts = target.retry?.maxAttempts || Infinity;
  const giveUpAt = Date.now() + DEFAULT_WEBHOOK_RETRY.expiryMs;
  const record: DeliveryRecord = {
    subscriptionId: target.id,
    url: target.url,
    eventType: event.type,
    runWorkflowId: event.workflowId,
    ...(event.step !== undefined && { step: event.step }),
    status: 'pending',
    attempts: 0,
    recent: [],
  };
  const note = (attempt: DeliveryAttempt) => {
    record.recent = [...record.recent, attempt].slice(-RECORDED_ATTEMPTS);
    upsertMemo({ [DELIVERY_MEMO]: record });
  };

  for (;;) {
    const attempt = ++record.attempts;
    const at = new Date().toISOString();
    delete record.nextAttemptAt;
    try {
      const { status } = await sendWebhook({ deliveryId, target, event, attempt });
      record.status = 'delivered';
      record.deliveredAt = new Date().toISOString();
      note({ attempt, at, outcome: 'delivered', status });
      return record;
    } catch (err) {
      if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
      const { final, ...failed } = failedAttempt(attempt, at, err);
      const wait = retryDelayMs(target.retry, attempt);
      if (final || attempt >= maxAttempts || Date.now() + wait > giveUpAt) {
        record.status = 'failed';
        note(failed);
        const why = final ? 'the receiver refused it for good' : `${attempt} attempts failed`;
        throw ApplicationFailure.create({
          type: DELIVERY_FAILED,
          message: `webhook ${target.id}: ${event.type} not delivered to ${target.url}: ${why} (last: ${failed.error})`,
          nonRetryable: true,
          details: [record],
        });
      }
      record.nextAttemptAt = new Date(Date.now() + wait).toISOString();
      note(failed);
      await sleep(wait);
    }
  }
}
