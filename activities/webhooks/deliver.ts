/**
 * The `deliverWebhook` activity: one signed POST of one event to one subscription. Signed as
 * the Standard Webhooks specification says (headers webhook-id, webhook-timestamp and
 * webhook-signature, with the `standardwebhooks` package), sent through the outbound guard: the
 * resolved address is checked and connected to as checked, and redirects are not followed.
 *
 * Outcomes, for the delivery workflow's retry loop:
 * - a 2xx answer is delivered;
 * - any other answer is a retryable failure naming the status, 4xx included (the Standard
 *   Webhooks advice: a receiver answering 401 or 400 is often a receiver being fixed, e.g. a
 *   secret being rotated), except 410 Gone: the receiver says the endpoint is gone for good;
 * - a 3xx is a retryable failure naming where it pointed: subscribe that URL instead;
 * - a refused address, a bad URL: not retried; connection errors and timeouts: retried.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Webhook } from 'standardwebhooks';
import type {
  DeliverWebhookRequest,
  DeliverWebhookResponse,
  DeliveryFailureDetails,
  WebhookDeliveryActivities,
} from '../../workflows/contracts/webhooks';
import { AllowList } from '../outbound/allow-list';
import { guardedRequest, resolveAll, type HopResult, type Resolve } from '../outbound/guarded-request';
import type { WebhookWorkerConfig } from './config';
import { webhookPayload } from './payload';
import { webhookSecret } from './webhook-secret';

/** How long one attempt waits for the receiver's answer. */
export const WEBHOOK_REQUEST_TIMEOUT_MS = 15_000;
/** The answer's body is read only for the error message; a bigger one counts as a failed attempt. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const SNIPPET_CHARS = 200;

export interface WebhookActivityOptions {
  /** How names are resolved (tests); default: the system resolver, every address. */
  resolve?: Resolve;
  requestTimeoutMs?: number;
}

function fail(
  req: DeliverWebhookRequest,
  message: string,
  type: string,
  retryable: boolean,
  details: DeliveryFailureDetails = {},
  cause?: Error,
): ApplicationFailure {
  return ApplicationFailure.create({
    message: `webhook ${req.target.id}: ${message}`,
    type,
    nonRetryable: !retryable,
    details: [details],
    cause,
  });
}

function targetUrl(req: DeliverWebhookRequest): URL {
  let url: URL;
  try {
    url = new URL(req.target.url);
  } catch {
    throw fail(req, `"${req.target.url}" is not a URL`, 'WebhookInvalidUrl', false);
  }
  // The API checks these at subscription; a run started with an older list is checked again here.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw fail(req, `${url.protocol} URLs are not delivered to (http and https only)`, 'WebhookInvalidUrl', false);
  }
  if (url.username || url.password) {
    throw fail(req, 'the URL carries credentials, which are not sent', 'WebhookInvalidUrl', false);
  }
  return url;
}

function snippet(res: HopResult): string {
  const text = res.body.toString('utf8').trim().replace(/\s+/g, ' ');
  if (!text) return '';
  return `: ${text.length > SNIPPET_CHARS ? `${text.slice(0, SNIPPET_CHARS)}...` : text}`;
}

export function createWebhookActivities(config: WebhookWorkerConfig, options: WebhookActivityOptions = {}) {
  const allowList = new AllowList(config.allowedHosts);
  const resolve = options.resolve ?? resolveAll;
  const timeoutMs = options.requestTimeoutMs ?? WEBHOOK_REQUEST_TIMEOUT_MS;

  async function send(req: DeliverWebhookRequest, url: URL, body: string, signingSecret: string): Promise<HopResult> {
    const sentAt = new Date();
    const signature = new Webhook(webhookSecret(signingSecret, req.target.id)).sign(req.deliveryId, sentAt, body);
    const ctx = Context.current();
    try {
      return await guardedRequest({
        url,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'durable-agents-webhooks',
          'webhook-id': req.deliveryId,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body,
        signal: AbortSignal.any([ctx.cancellationSignal, AbortSignal.timeout(timeoutMs)]),
        maxBytes: MAX_RESPONSE_BYTES,
        allowList,
        resolve,
      });
    } catch (err) {
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      if (err instanceof ApplicationFailure && err.type === 'HttpAddressNotAllowed') {
        throw fail(
          req,
          `${url.host} is at a loopback, private or otherwise non-public address; WEBHOOK_ALLOWED_HOSTS must ` +
            `name that address (with the port, unless 80 or 443) for deliveries to reach it`,
          'WebhookAddressNotAllowed',
          false,
          {},
          err,
        );
      }
      // E.g. an answer past MAX_RESPONSE_BYTES: a failed attempt like any other.
      if (err instanceof ApplicationFailure) throw fail(req, err.message, 'WebhookRejected', true, {}, err);
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message;
      throw fail(req, `${url.origin}: ${why}`, 'WebhookUnreachable', true);
    }
  }

  return {
    async deliverWebhook(req: DeliverWebhookRequest): Promise<DeliverWebhookResponse> {
      const { signingSecret, publicUrl } = config;
      if (!signingSecret) {
        // Retryable: the delivery goes out once the worker restarts with a secret.
        throw fail(
          req,
          'this worker has no SIGNING_SECRET (or SIGNING_SECRET_FILE) to sign deliveries with',
          'WebhookNotConfigured',
          true,
        );
      }
      const url = targetUrl(req);
      const body = JSON.stringify(webhookPayload(req, { signingSecret, publicUrl }));
      const res = await send(req, url, body, signingSecret);
      const { status } = res;
      if (status >= 200 && status < 300) return { status };
      if (status >= 300 && status < 400) {
        const to = res.headers.location === undefined ? '' : ` to ${String(res.headers.location)}`;
        throw fail(
          req,
          `answered ${status}, a redirect${to} (redirects are not followed: subscribe the final URL instead)`,
          'WebhookRejected',
          true,
          { status },
        );
      }
      if (status === 410) throw fail(req, `answered 410 Gone${snippet(res)}`, 'WebhookGone', false, { status });
      throw fail(req, `answered ${status}${snippet(res)}`, 'WebhookRejected', true, { status });
    },
  } satisfies WebhookDeliveryActivities;
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
