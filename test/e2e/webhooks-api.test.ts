/**
 * Webhooks end to end: a real Temporal dev server, the orchestrator worker in this process, the
 * API on a free port with real static-token auth, and a real HTTP receiver on loopback that
 * answers each delivery's first 3 attempts with 503. A run's events reach the receiver signed
 * (verified with the secret the API handed out), each accepted exactly once even though the
 * worker is stopped and replaced while deliveries wait in backoff; the approval request carries
 * a signed link that decides the step; the API lists each delivery's 4 attempts; subscriptions
 * survive an API restart.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Webhook } from 'standardwebhooks';
import { createApp } from '../../api/app';
import type {
  CreateWebhookResponse,
  ListDeliveriesResponse,
  WebhookSecretResponse,
  WebhookView,
} from '../../api/webhooks/webhook-views';
import type { WebhookPayload } from '../../activities/webhooks/payload';
import type { TemporalConfig } from '../../temporal/config';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { DELIVER_WEBHOOK_WORKFLOW } from '../../workflows/contracts/webhooks';
import { testAuth, type TestAuth, type TestUser } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { WebhookReceiver } from '../helpers/webhook-receiver';
import { runInProcess } from '../helpers/worker';

const SPEC = 'webhook-e2e';
const FAILURES_BEFORE_ACCEPT = 3;

let env: TestWorkflowEnvironment;
let temporal: TemporalConfig;
let auth: TestAuth;
let receiver: WebhookReceiver;
let app: INestApplication;
let baseUrl: string;
let specStoreDir: string;
let webhookStoreDir: string;
let stopWorker: (() => Promise<void>) | undefined;
const tempDirs: string[] = [];

interface Reply<T> {
  status: number;
  body: T;
}

async function call<T>(method: string, route: string, user: TestUser | null, body?: unknown): Promise<Reply<T>> {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: {
      ...(user && auth.header(user)),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function startApp(): Promise<void> {
  app = await createApp({
    temporal,
    client: env.client,
    auth: auth.auth,
    specStoreDir,
    webhookStoreDir,
    examplesDir: null,
    port: 0,
    logger: false,
  });
  baseUrl = await app.getUrl();
}

/** A worker on the test's task queue that may reach the receiver and signs with the API's secret. */
async function startWorker(): Promise<void> {
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: {
      ...loadOrchestratorWorkerConfig({}),
      webhooks: { allowedHosts: [receiver.host], signingSecret: auth.auth.signingSecret, publicUrl: baseUrl },
    },
    workflowBundle: await bundleWorkflowsOnce(),
  });
  stopWorker = runInProcess(worker);
}

before(async () => {
  env = await createTestEnv();
  temporal = {
    address: env.address,
    namespace: env.namespace ?? 'default',
    uiUrl: 'http://127.0.0.1:8233',
    taskQueue: `webhooks-e2e-${randomUUID()}`,
  };
  auth = testAuth();
  receiver = await WebhookReceiver.start({ failFirst: FAILURES_BEFORE_ACCEPT });
  specStoreDir = await mkdtemp(path.join(tmpdir(), 'webhooks-specs-'));
  tempDirs.push(specStoreDir);
  webhookStoreDir = await mkdtemp(path.join(tmpdir(), 'webhooks-store-'));
  tempDirs.push(webhookStoreDir);
  await startApp();
  await startWorker();
});

after(async () => {
  await app?.close();
  await stopWorker?.();
  await receiver?.close();
  await env?.teardown();
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

test('subscribing needs an admin token and a valid body; the answer holds the secret once', async () => {
  const body = { url: receiver.url(), events: ['run.started'] };
  assert.equal((await call('POST', '/webhooks', null, body)).status, 401);
  assert.equal((await call('POST', '/webhooks', 'operator', body)).status, 403);
  assert.equal((await call('GET', '/webhooks', 'viewer')).status, 403);

  const bad = await call<{ issues: Array<{ path: string }> }>('POST', '/webhooks', 'admin', {
    ...body,
    url: 'https://user:pw@hooks.example.com/',
  });
  assert.equal(bad.status, 400);
  assert.deepEqual(
    bad.body.issues.map((i) => i.path),
    ['url'],
  );
  assert.equal((await call('GET', '/webhooks/not-an-id', 'admin')).status, 400);
  assert.equal((await call('GET', `/webhooks/${randomUUID()}`, 'admin')).status, 404);
});

test('each event reaches the receiver signed and accepted exactly once, across a worker restart', async () => {
  const created = await call<CreateWebhookResponse>('POST', '/webhooks', 'admin', {
    url: receiver.url('/hook'),
    events: ['run.started', 'approval.requested', 'approval.decided', 'run.finished'],
    spec: SPEC,
    linksFor: 'ana',
    retry: { initialInterval: '1s', maxAttempts: 10 },
  });
  assert.equal(created.status, 201);
  const { id, secret } = created.body;
  assert.match(secret, /^whsec_/);
  // A subscription this run does not match (another spec) and one for an event the run never emits.
  const otherSpec = await call<CreateWebhookResponse>('POST', '/webhooks', 'admin', {
    url: receiver.url('/other'),
    events: ['run.started'],
    spec: 'another-spec',
  });
  const unusedEvent = await call<CreateWebhookResponse>('POST', '/webhooks', 'admin', {
    url: receiver.url('/unused'),
    events: ['approval.escalated'],
    spec: SPEC,
  });

  const spec = {
    name: SPEC,
    steps: [
      { id: 'gate', kind: 'approval', prompt: 'Ship it?', approvers: ['ana'], timeout: '1h', onTimeout: 'reject' },
      { id: 'after', kind: 'sleep', duration: '10ms' },
    ],
  };
  const started = await call<{ workflowId: string }>('POST', '/workflows', 'operator', { spec });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const { workflowId } = started.body;

  // The run.started and approval.requested deliveries have each failed twice: they wait in backoff.
  const failedOf = (path: string) => receiver.requests.filter((r) => r.answered === 503 && r.body.includes(path));
  await waitFor(
    'two failed attempts of run.started and approval.requested',
    async () => {
      const counts = ['"run.started"', '"approval.requested"'].map((t) => failedOf(t).length);
      return counts.every((n) => n >= 2) || undefined;
    },
    60_000,
  );
  await stopWorker!();
  // With no worker, a due attempt waits (its timer fires, but nothing runs it) ...
  await waitFor('a delivery attempt overdue while no worker runs', async () => {
    const page = await call<ListDeliveriesResponse>('GET', `/webhooks/${id}/deliveries`, 'admin');
    return page.body.deliveries.some((d) => d.nextAttemptAt !== undefined && Date.parse(d.nextAttemptAt) < Date.now())
      ? true
      : undefined;
  });
  // ... until a new worker picks it up.
  await startWorker();

  const requested = await waitFor(
    'the approval.requested delivery accepted',
    async () => receiver.requests.find((r) => r.answered === 200 && r.body.includes('"approval.requested"')),
    60_000,
  );
  const links = (JSON.parse(requested.body) as WebhookPayload).data.links;
  assert.ok(links, 'the approval delivery carries links for ana');
  const decided = await fetch(links.approve, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ comment: 'from the webhook' }),
  });
  assert.equal(decided.status, 200, await decided.clone().text());

  const deliveries = await waitFor(
    'four deliveries delivered',
    async () => {
      const page = await call<ListDeliveriesResponse>('GET', `/webhooks/${id}/deliveries?pageSize=10`, 'admin');
      assert.equal(page.status, 200);
      const done = page.body.deliveries.filter((d) => d.status === 'delivered');
      return done.length === 4 ? page.body.deliveries : undefined;
    },
    90_000,
  );
  assert.deepEqual(deliveries.map((d) => d.event).sort(), [
    'approval.decided',
    'approval.requested',
    'run.finished',
    'run.started',
  ]);
  for (const d of deliveries) {
    assert.equal(d.runWorkflowId, workflowId);
    assert.equal(d.attempts, FAILURES_BEFORE_ACCEPT + 1, `${d.event}: ${JSON.stringify(d.recent)}`);
    assert.deepEqual(
      d.recent.map((a) => [a.attempt, a.outcome, a.status]),
      [
        [1, 'failed', 503],
        [2, 'failed', 503],
        [3, 'failed', 503],
        [4, 'delivered', 200],
      ],
    );
    assert.match(d.recent[0]!.error!, /answered 503/);
    assert.ok(d.deliveredAt);
  }

  // The receiver's view: every attempt of a delivery has the same id and body and a valid
  // signature; each delivery was accepted exactly once (counted, not deduplicated).
  const verifier = new Webhook(secret);
  const ids = deliveries.map((d) => d.id);
  for (const deliveryId of ids) {
    const attempts = receiver.requests.filter((r) => r.webhookId === deliveryId);
    assert.equal(attempts.length, FAILURES_BEFORE_ACCEPT + 1, deliveryId);
    assert.equal(new Set(attempts.map((a) => a.body)).size, 1, `${deliveryId}: one body on every attempt`);
    for (const a of attempts) verifier.verify(a.body, a.headers as Record<string, string>);
  }
  const accepted = receiver.acceptedCounts();
  assert.deepEqual(
    ids.map((i) => accepted.get(i)),
    ids.map(() => 1),
  );
  assert.equal(
    [...accepted.keys()].filter((k) => k.includes(workflowId)).length,
    4,
    'nothing else was accepted for this run',
  );

  // The decision came from the link: recorded with channel `link` as ana.
  const decidedEvent = JSON.parse(
    receiver.requests.find((r) => r.answered === 200 && r.body.includes('"approval.decided"'))!.body,
  ) as WebhookPayload;
  assert.equal(decidedEvent.data.step, 'gate');
  assert.equal(JSON.stringify(decidedEvent.data.data).includes('"ana"'), true, JSON.stringify(decidedEvent.data));

  // Subscriptions the run did not match got nothing, and the run started no delivery for them.
  for (const other of [otherSpec.body.id, unusedEvent.body.id]) {
    const page = await call<ListDeliveriesResponse>('GET', `/webhooks/${other}/deliveries`, 'admin');
    assert.deepEqual(page.body.deliveries, []);
  }
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const childStarts = (history.events ?? []).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  assert.equal(childStarts.length, 4);
  for (const e of childStarts) {
    assert.equal(e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name, DELIVER_WEBHOOK_WORKFLOW);
  }
  assert.equal(receiver.requests.filter((r) => !r.body.includes(workflowId)).length, 0);
});

test('subscriptions survive an API restart, and the secret is the one handed out at creation', async () => {
  const created = await call<CreateWebhookResponse>('POST', '/webhooks', 'admin', {
    url: 'https://hooks.example.com/agents',
    events: ['approval.requested'],
  });
  assert.equal(created.status, 201);
  await app.close();
  await startApp();
  const got = await call<WebhookView>('GET', `/webhooks/${created.body.id}`, 'admin');
  assert.equal(got.status, 200);
  assert.deepEqual({ ...got.body, secret: created.body.secret }, created.body);
  const listed = await call<{ webhooks: WebhookView[] }>('GET', '/webhooks', 'admin');
  assert.ok(listed.body.webhooks.some((w) => w.id === created.body.id));
  const secret = await call<WebhookSecretResponse>('GET', `/webhooks/${created.body.id}/secret`, 'admin');
  assert.deepEqual(secret.body, { id: created.body.id, secret: created.body.secret });

  assert.equal((await call('DELETE', `/webhooks/${created.body.id}`, 'admin')).status, 204);
  assert.equal((await call('GET', `/webhooks/${created.body.id}`, 'admin')).status, 404);
  assert.equal((await call('DELETE', `/webhooks/${created.body.id}`, 'admin')).status, 404);
});
