/**
 * The approvals inbox and signed links through the REST API: a real Temporal dev server, the
 * orchestrator worker in this process, the Nest app with real static tokens (test/helpers/api-auth.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { mintApprovalLink, verifyApprovalLink } from '../../activities/identity/approval-links';
import type { ApprovalLinksResponse, ListApprovalsResponse } from '../../api/approvals/approval-views';
import { createApp } from '../../api/app';
import type { RunDetail } from '../../api/workflows/run-views';
import type { TemporalConfig } from '../../temporal/config';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { RunProgress } from '../../workflows/contracts/run';
import type { Spec } from '../../workflows/contracts/spec';
import { testAuth, type TestUser } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';

const UI_URL = 'http://127.0.0.1:8233';

interface Reply<T> {
  status: number;
  body: T;
  headers: Headers;
}
interface ErrorBody {
  statusCode: number;
  message: string;
  issues?: Array<{ path: string }>;
  decidedBy?: string;
}

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let app: INestApplication;
let baseUrl: string;
let temporal: TemporalConfig;
let specStoreDir: string;
let webhookStoreDir: string;
const auth = testAuth();

async function http<T = ErrorBody>(
  method: string,
  route: string,
  opts: { user?: TestUser | null; body?: unknown; accept?: string; base?: string } = {},
): Promise<Reply<T>> {
  const { user = 'admin', body, accept = 'application/json' } = opts;
  const url = route.startsWith('http') ? route : `${opts.base ?? baseUrl}${route}`;
  const res = await fetch(url, {
    method,
    headers: {
      accept,
      ...(user ? auth.header(user) : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
  return { status: res.status, body: parsed as T, headers: res.headers };
}

const approvalStep = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'approval' as const,
  prompt: `Decide ${id}?`,
  onReject: 'continue' as const,
  ...extra,
});

async function startRun(spec: Spec): Promise<string> {
  const started = await http<{ workflowId: string }>('POST', '/workflows', {
    body: { spec, runId: randomUUID() },
    user: 'operator',
  });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  return started.body.workflowId;
}

async function listIds(query: string, user: TestUser = 'admin'): Promise<string[]> {
  const reply = await http<ListApprovalsResponse>('GET', `/approvals${query}`, { user });
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.approvals.map((a) => `${a.workflowId}/${a.stepId}`);
}

/** Visibility is eventually consistent: wait until the inbox lists every one of `keys`. */
function waitListed(keys: string[]): Promise<ListApprovalsResponse> {
  return waitFor(`${keys.join(', ')} in GET /approvals`, async () => {
    const reply = await http<ListApprovalsResponse>('GET', '/approvals?pageSize=1000');
    const listed = new Set(reply.body.approvals.map((a) => `${a.workflowId}/${a.stepId}`));
    return keys.every((k) => listed.has(k)) && reply.body;
  });
}

const mine = (ids: string[], keys: string[]) => ids.filter((id) => keys.includes(id)).sort();

before(async () => {
  env = await createTestEnv();
  temporal = {
    address: env.address,
    namespace: env.namespace ?? 'default',
    uiUrl: UI_URL,
    taskQueue: `inbox-e2e-${randomUUID()}`,
  };
  worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: loadOrchestratorWorkerConfig({}),
    workflowBundle: await bundleWorkflowsOnce(),
    identityEnv: auth.env,
  });
  workerRun = worker.run();
  specStoreDir = await mkdtemp(path.join(tmpdir(), 'inbox-specs-'));
  webhookStoreDir = await mkdtemp(path.join(tmpdir(), 'inbox-webhooks-'));
  app = await createApp({
    temporal,
    auth: auth.auth,
    client: env.client,
    specStoreDir,
    webhookStoreDir,
    examplesDir: null,
    port: 0,
    logger: false,
  });
  baseUrl = await app.getUrl();
});

after(async () => {
  await app?.close();
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  if (specStoreDir) await rm(specStoreDir, { recursive: true, force: true });
  if (webhookStoreDir) await rm(webhookStoreDir, { recursive: true, force: true });
});

test('GET /approvals lists pending approvals across runs, filtered by spec, approver, group, age and mine', async () => {
  const release = await startRun({
    name: 'inbox-release',
    steps: [approvalStep('approve', { approvers: ['release-managers'], timeout: '1h' })],
  });
  const named = await startRun({
    name: 'inbox-named',
    steps: [approvalStep('sign', { approvers: ['user:ana', 'group:ops'], choices: undefined })],
  });
  const open = await startRun({ name: 'inbox-open', steps: [approvalStep('ok')] });
  const keys = [`${release}/approve`, `${named}/sign`, `${open}/ok`];
  const listed = await waitListed(keys);

  const item = listed.approvals.find((a) => a.workflowId === release);
  assert.ok(item);
  const runUrl = `${baseUrl}/workflows/${encodeURIComponent(release)}`;
  assert.deepEqual(
    {
      ...item,
      runId: typeof item.runId,
      requestedAt: typeof item.requestedAt,
      timeoutAt: typeof item.timeoutAt,
    },
    {
      workflowId: release,
      runId: 'string',
      spec: 'inbox-release',
      stepId: 'approve',
      prompt: 'Decide approve?',
      approvers: ['release-managers'],
      requestedAt: 'string',
      timeoutAt: 'string',
      onTimeout: 'reject',
      escalatedAt: null,
      choices: [],
      mayDecide: false,
      links: {
        run: runUrl,
        webUi: `${UI_URL}/namespaces/${temporal.namespace}/workflows/${encodeURIComponent(release)}`,
        decide: `${runUrl}/approvals/approve`,
      },
    },
  );
  assert.equal(Date.parse(item.timeoutAt as string) - Date.parse(item.requestedAt), 3_600_000);

  assert.deepEqual(mine(await listIds('?spec=inbox-release'), keys), [`${release}/approve`]);
  assert.deepEqual(mine(await listIds('?approver=ana'), keys), [`${named}/sign`]);
  assert.deepEqual(mine(await listIds('?approver=group:ops'), keys), [`${named}/sign`]);
  assert.deepEqual(mine(await listIds('?approver=release-managers'), keys), [`${release}/approve`]);
  assert.deepEqual(mine(await listIds('?group=release-managers'), keys), [`${release}/approve`]);
  assert.deepEqual(mine(await listIds('?group=ops'), keys), [`${named}/sign`]);
  assert.deepEqual(mine(await listIds('?olderThan=1h'), keys), [], 'nothing has waited an hour');
  assert.deepEqual(mine(await listIds('?olderThan=1ms'), keys), [...keys].sort());
  assert.deepEqual(mine(await listIds('?mine=true', 'ana'), keys), [...keys].sort(), 'ana: group, user and open');
  assert.deepEqual(mine(await listIds('?mine=true', 'mallory'), keys), [`${open}/ok`], 'mallory: only the open one');
  assert.deepEqual(mine(await listIds('?mine=true', 'viewer'), keys), [], 'a viewer decides nothing');
  assert.deepEqual(mine(await listIds('', 'viewer'), keys), [...keys].sort(), 'but may list');
  const forAna = await http<ListApprovalsResponse>('GET', '/approvals?spec=inbox-release', { user: 'ana' });
  assert.equal(forAna.body.approvals[0]?.mayDecide, true);

  assert.equal((await http('GET', '/approvals', { user: null })).status, 401);
  const bad = await http('GET', '/approvals?olderThan=soon&mine=maybe');
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.issues?.map((i) => i.path).sort(), ['mine', 'olderThan']);

  // Pages of one run each, until the last: every approval once.
  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await http<ListApprovalsResponse>(
      'GET',
      `/approvals?pageSize=1${token ? `&nextPageToken=${encodeURIComponent(token)}` : ''}`,
    );
    assert.equal(page.status, 200);
    seen.push(...page.body.approvals.map((a) => `${a.workflowId}/${a.stepId}`));
    token = page.body.nextPageToken;
    pages++;
  } while (token && pages < 50);
  assert.deepEqual(mine(seen, keys), [...keys].sort());
  const first = await http<ListApprovalsResponse>('GET', '/approvals?pageSize=1');
  assert.ok(first.body.nextPageToken);
  const otherFilter = await http(
    'GET',
    `/approvals?pageSize=1&spec=inbox-open&nextPageToken=${encodeURIComponent(first.body.nextPageToken)}`,
  );
  assert.equal(otherFilter.status, 400, 'a token belongs to its filter');
});

test('a signed link decides once, as the identity it names; expired, tampered and second uses are refused', async () => {
  const workflowId = await startRun({
    name: 'inbox-links',
    steps: [
      approvalStep('approve', { approvers: ['release-managers'], timeout: '2h' }),
      approvalStep('hold'), // keeps the run open after the link decided
    ],
  });
  await waitListed([`${workflowId}/approve`]);
  const mintPath = `/workflows/${encodeURIComponent(workflowId)}/approvals/approve/links`;

  const byMallory = await http('POST', mintPath, { user: 'mallory', body: {} });
  assert.equal(byMallory.status, 403, 'mallory is not a release manager: no link for her');
  assert.match(byMallory.body.message, /mallory may not decide/);
  const forOther = await http('POST', mintPath, { user: 'approver', body: { for: { user: 'ana' } } });
  assert.equal(forOther.status, 403, 'only an admin mints for someone else');
  const adminForMallory = await http('POST', mintPath, { body: { for: { user: 'mallory' } } });
  assert.equal(adminForMallory.status, 403);
  assert.equal((await http('POST', mintPath, { user: 'viewer', body: {} })).status, 403);
  const tooLong = await http('POST', mintPath, { user: 'ana', body: { expiresIn: '30d' } });
  assert.equal(tooLong.status, 400);
  const notWaiting = await http('POST', `/workflows/${encodeURIComponent(workflowId)}/approvals/hold/links`, {
    user: 'ana',
  });
  assert.equal(notWaiting.status, 409);

  const minted = await http<ApprovalLinksResponse>('POST', mintPath, { user: 'ana' });
  assert.equal(minted.status, 201, JSON.stringify(minted.body));
  const { approve = '', reject = '', expiresAt } = minted.body;
  assert.ok(approve.startsWith(`${baseUrl}/approvals/links/`) && reject.startsWith(`${baseUrl}/approvals/links/`));
  assert.deepEqual([minted.body.user, minted.body.groups], ['ana', ['release-managers']]);
  const approveToken = approve.slice(approve.lastIndexOf('/') + 1);
  const claims = verifyApprovalLink(approveToken, auth.auth.signingSecret, Date.now());
  assert.equal(claims.decision, 'approve');
  assert.equal(new Date(claims.exp).toISOString(), expiresAt);
  const detail = await http<RunDetail & { progress: RunProgress }>(
    'GET',
    `/workflows/${encodeURIComponent(workflowId)}`,
  );
  assert.equal(expiresAt, detail.body.progress.pendingApprovals[0]?.timeoutAt, 'the link expires with the approval');

  // Opening the link shows what it would do and decides nothing.
  const view = await http<{ waiting: boolean; decision: string; user: string }>('GET', approve, { user: null });
  assert.equal(view.status, 200);
  assert.deepEqual([view.body.waiting, view.body.decision, view.body.user], [true, 'approve', 'ana']);
  const page = await http<string>('GET', approve, { user: null, accept: 'text/html' });
  assert.equal(page.status, 200);
  assert.match(page.body, /<form method="post"/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  const historyLength = async () =>
    (await http<RunDetail>('GET', `/workflows/${encodeURIComponent(workflowId)}`)).body.historyLength;
  const lengthBefore = await historyLength();

  // Tampered (claims changed under the old signature) and expired links are refused, changing nothing.
  const [body, mac] = approveToken.split('.') as [string, string];
  const forged = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), user: 'mallory', groups: [] }),
  ).toString('base64url');
  const tampered = await http('POST', `/approvals/links/${forged}.${mac}`, { user: null });
  assert.equal(tampered.status, 400);
  assert.match(tampered.body.message, /not signed by this server/);
  assert.equal((await http('POST', `/approvals/links/${body}.${mac.slice(1)}x`, { user: null })).status, 400);
  const expiredToken = mintApprovalLink({ ...claims, exp: Date.now() - 1000 }, auth.auth.signingSecret);
  const expired = await http('POST', `/approvals/links/${expiredToken}`, { user: null });
  assert.equal(expired.status, 410);
  assert.match(expired.body.message, /expired/);
  const expiredPage = await http<string>('GET', `/approvals/links/${expiredToken}`, {
    user: null,
    accept: 'text/html',
  });
  assert.equal(expiredPage.status, 410);
  assert.match(expiredPage.body, /expired/);
  assert.equal(await historyLength(), lengthBefore, 'refused links leave history unchanged');

  // The link decides, as ana, over channel `link`.
  const used = await http<{ decision: string; by: string; comment?: string }>('POST', approve, {
    user: null,
    body: { comment: 'via link' },
  });
  assert.equal(used.status, 200, JSON.stringify(used.body));
  assert.deepEqual([used.body.decision, used.body.by, used.body.comment], ['approve', 'ana', 'via link']);
  const decided = await waitFor('the approve step recorded', async () => {
    // live: the step's output (the decision) is the worker's to tell; the history has no outputs.
    const d = await http<RunDetail & { progress?: RunProgress }>(
      'GET',
      `/workflows/${encodeURIComponent(workflowId)}?live=true`,
    );
    const step = d.body.progress?.steps.approve;
    return step?.status === 'completed' && d.body.progress?.pendingApprovals.some((p) => p.stepId === 'hold') && d.body;
  });
  const output = decided.progress?.steps.approve?.output as Record<string, unknown>;
  assert.deepEqual([output.by, output.channel, output.comment, output.approved], ['ana', 'link', 'via link', true]);

  // Used twice, or its sibling after it: refused, history unchanged.
  const lengthAfter = await historyLength();
  const again = await http('POST', approve, { user: null });
  assert.equal(again.status, 409);
  const sibling = await http('POST', reject, { user: null, accept: 'text/html' });
  assert.equal(sibling.status, 409);
  assert.match(String(sibling.body), /already decided/i);
  assert.equal(await historyLength(), lengthAfter);
  const stale = await http<{ waiting: boolean }>('GET', approve, { user: null });
  assert.equal(stale.body.waiting, false);
});

test('without a signing secret, links and the page answer 503 naming SIGNING_SECRET', async () => {
  const withoutSecret = { ...auth.auth, signingSecret: undefined };
  const plain = await createApp({
    temporal,
    auth: withoutSecret,
    client: env.client,
    specStoreDir,
    webhookStoreDir,
    examplesDir: null,
    port: 0,
    logger: false,
  });
  try {
    const base = await plain.getUrl();
    const mint = await http('POST', '/workflows/x:y/approvals/approve/links', { base, user: 'ana' });
    assert.equal(mint.status, 503);
    assert.match(mint.body.message, /SIGNING_SECRET/);
    // Well formed (a 43-character signature), so the missing secret is what it runs into.
    const link = await http('GET', `/approvals/links/abc.${'d'.repeat(43)}`, { base, user: null });
    assert.equal(link.status, 503);
    const inbox = await http<string>('GET', '/approvals', { base, accept: 'text/html' });
    assert.equal(inbox.status, 503);
    assert.match(inbox.body, /SIGNING_SECRET/);
    assert.equal((await http('GET', '/approvals', { base })).status, 200, 'the JSON inbox needs no secret');
  } finally {
    await plain.close();
  }
});
