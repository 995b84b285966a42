/**
 * The `deliverWebhook` activity against a real HTTP receiver on 127.0.0.1: the Standard Webhooks
 * signature verifies with the `standardwebhooks` package's own Webhook.verify, the body and id
 * are the same on every attempt, non-2xx answers fail as documented, loopback needs
 * WEBHOOK_ALLOWED_HOSTS, approval events carry links the server's own verifier accepts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { verifyApprovalLink } from '../../activities/identity/approval-links';
import { loadWebhookWorkerConfig, type WebhookWorkerConfig } from '../../activities/webhooks/config';
import { createWebhookActivities } from '../../activities/webhooks/deliver';
import type { WebhookPayload } from '../../activities/webhooks/payload';
import { webhookSecret } from '../../activities/webhooks/webhook-secret';
import { ConfigError } from '../../config/config-errors';
import type { WebhookEvent } from '../../workflows/contracts/run-events';
import type { DeliverWebhookRequest, DeliveryFailureDetails } from '../../workflows/contracts/webhooks';
import { WebhookReceiver } from '../helpers/webhook-receiver';

const signingSecret = randomBytes(32).toString('hex');
const SUBSCRIPTION = '3f0d8c52-1d8e-4a57-9f59-0c3f4f7e1a11';
let receiver: WebhookReceiver;
let config: WebhookWorkerConfig;

before(async () => {
  receiver = await WebhookReceiver.start({
    statusFor: (path) => ({ '/gone': 410, '/broken': 500, '/moved': 302 })[path],
  });
  config = { allowedHosts: [receiver.host], signingSecret, publicUrl: 'https://agents.example.com/' };
});
after(() => receiver?.close());

const event = (over: Partial<WebhookEvent> = {}): WebhookEvent => ({
  type: 'run.started',
  workflowId: 'release:demo-1',
  at: '2030-01-02T03:04:05.000Z',
  data: { spec: { name: 'release' } },
  ...over,
});

function request(path: string, over: Partial<DeliverWebhookRequest> = {}): DeliverWebhookRequest {
  return {
    deliveryId: `webhook:${SUBSCRIPTION}:release:demo-1:run.started:1`,
    target: { id: SUBSCRIPTION, url: receiver.url(path) },
    event: event(),
    attempt: 1,
    ...over,
  };
}

function deliver(req: DeliverWebhookRequest, cfg: WebhookWorkerConfig = config) {
  // Failures are what several tests expect: not logged as warnings.
  return new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(
    createWebhookActivities(cfg).deliverWebhook,
    req,
  );
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the delivery to fail');
}

test('a delivery is signed as Standard Webhooks says, and verifies with the subscription secret', async () => {
  const req = request('/hook');
  assert.deepEqual(await deliver(req), { status: 200 });
  const got = receiver.requests.at(-1)!;
  assert.equal(got.headers['webhook-id'], req.deliveryId);
  assert.match(String(got.headers['webhook-timestamp']), /^\d+$/);
  assert.match(String(got.headers['webhook-signature']), /^v1,/);
  assert.equal(got.headers['content-type'], 'application/json');

  const secret = webhookSecret(signingSecret, SUBSCRIPTION);
  assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
  const verified = new Webhook(secret).verify(got.body, got.headers as Record<string, string>) as WebhookPayload;
  assert.deepEqual(verified, { type: 'run.started', timestamp: req.event.at, data: req.event });

  // Another subscription's secret (or a changed body) does not verify.
  const other = webhookSecret(signingSecret, 'another-subscription');
  assert.throws(
    () => new Webhook(other).verify(got.body, got.headers as Record<string, string>),
    WebhookVerificationError,
  );
  assert.throws(
    () => new Webhook(secret).verify(got.body.replace('release', 'releasf'), got.headers as Record<string, string>),
    WebhookVerificationError,
  );
});

test('every attempt sends the same webhook-id and body', async () => {
  const req = request('/hook', { deliveryId: `webhook:${SUBSCRIPTION}:release:demo-1:run.started:2` });
  await deliver(req);
  await deliver({ ...req, attempt: 2 });
  const sent = receiver.requests.filter((r) => r.webhookId === req.deliveryId);
  assert.equal(sent.length, 2);
  assert.equal(sent[0]!.body, sent[1]!.body);
});

test('non-2xx answers fail naming the status: retryable, except 410 Gone; redirects are not followed', async () => {
  const broken = await failureOf(deliver(request('/broken')));
  assert.equal(broken.type, 'WebhookRejected');
  assert.equal(broken.nonRetryable, false);
  assert.match(broken.message, /answered 500/);
  assert.deepEqual(broken.details?.[0] as DeliveryFailureDetails, { status: 500 });

  const gone = await failureOf(deliver(request('/gone')));
  assert.equal(gone.type, 'WebhookGone');
  assert.equal(gone.nonRetryable, true);

  const before = receiver.requests.length;
  const moved = await failureOf(deliver(request('/moved')));
  assert.equal(moved.nonRetryable, false);
  assert.match(moved.message, /answered 302, a redirect to \/hook \(redirects are not followed/);
  assert.equal(receiver.requests.length, before + 1, 'the redirect target was not requested');
});

test('a loopback receiver is refused unless WEBHOOK_ALLOWED_HOSTS names its address and port', async () => {
  const refused = await failureOf(deliver(request('/hook'), { ...config, allowedHosts: [] }));
  assert.equal(refused.type, 'WebhookAddressNotAllowed');
  assert.equal(refused.nonRetryable, true);
  assert.match(refused.message, /WEBHOOK_ALLOWED_HOSTS/);
  // A name entry is not enough for a non-public address (as for the http activity).
  const byName = await failureOf(
    deliver(request('/hook'), { ...config, allowedHosts: [`localhost:${receiver.port}`] }),
  );
  assert.equal(byName.type, 'WebhookAddressNotAllowed');
});

test('URLs the API would refuse are refused again here; a worker without a secret retries', async () => {
  const creds = await failureOf(
    deliver({ ...request('/hook'), target: { id: SUBSCRIPTION, url: `http://u:p@${receiver.host}/` } }),
  );
  assert.equal(creds.type, 'WebhookInvalidUrl');
  assert.equal(creds.nonRetryable, true);
  const ftp = await failureOf(
    deliver({ ...request('/hook'), target: { id: SUBSCRIPTION, url: 'ftp://example.com/x' } }),
  );
  assert.equal(ftp.type, 'WebhookInvalidUrl');

  const unsigned = await failureOf(deliver(request('/hook'), { ...config, signingSecret: undefined }));
  assert.equal(unsigned.type, 'WebhookNotConfigured');
  assert.equal(unsigned.nonRetryable, false);
  assert.match(unsigned.message, /SIGNING_SECRET/);
});

test('approval.requested for a subscription with linksFor carries signed links the server accepts', async () => {
  const timeoutAt = '2030-01-03T00:00:00.000Z';
  const req = request('/hook', {
    deliveryId: `webhook:${SUBSCRIPTION}:release:demo-1:approval.requested:gate:3`,
    target: { id: SUBSCRIPTION, url: receiver.url('/hook'), linksFor: 'ana' },
    event: event({ type: 'approval.requested', step: 'gate', data: { stepId: 'gate', approvers: ['ana'], timeoutAt } }),
  });
  await deliver(req);
  await deliver({ ...req, attempt: 2 });
  const [first, second] = receiver.requests.filter((r) => r.webhookId === req.deliveryId);
  assert.equal(first!.body, second!.body, 'the links are the same on every attempt');
  const payload = JSON.parse(first!.body) as WebhookPayload;
  const links = payload.data.links!;
  assert.equal(links.expiresAt, timeoutAt);
  const prefix = 'https://agents.example.com/approvals/links/';
  for (const decision of ['approve', 'reject'] as const) {
    assert.ok(links[decision].startsWith(prefix), links[decision]);
    const claims = verifyApprovalLink(links[decision].slice(prefix.length), signingSecret, Date.parse(req.event.at));
    assert.deepEqual(
      { ...claims, nonce: typeof claims.nonce },
      {
        workflowId: 'release:demo-1',
        stepId: 'gate',
        decision,
        user: 'ana',
        groups: [],
        exp: Date.parse(timeoutAt),
        nonce: 'string',
      },
    );
  }
  assert.notEqual(links.approve, links.reject);

  // Without linksFor, or for other events, no links.
  await deliver({ ...req, deliveryId: `${req.deliveryId}-plain`, target: { id: SUBSCRIPTION, url: receiver.url() } });
  assert.equal((JSON.parse(receiver.requests.at(-1)!.body) as WebhookPayload).data.links, undefined);
});

test('WEBHOOK_ALLOWED_HOSTS is checked at start-up, naming the key', () => {
  assert.throws(
    () => loadWebhookWorkerConfig({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1:9000, http://x/' }),
    (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.key === 'WEBHOOK_ALLOWED_HOSTS'),
  );
  assert.deepEqual(
    loadWebhookWorkerConfig({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1:9000', API_PUBLIC_URL: 'https://a.example/' }),
    {
      allowedHosts: ['127.0.0.1:9000'],
      publicUrl: 'https://a.example',
    },
  );
});
