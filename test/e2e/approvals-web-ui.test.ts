/**
 * The inbox page as a person uses it, in headless Chromium (Debian's package, driven by
 * playwright-core): sign in with a token, see the pending approval (its prompt shown as text,
 * not markup), reject it with a comment, see the result and a stale tab's 409; a forged post
 * that carries the session cookie but no CSRF token is refused and changes nothing. A
 * screenshot is kept in a temp directory (its path is printed).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { chromium } from 'playwright-core';
import type { ListApprovalsResponse } from '../../api/approvals/approval-views';
import { createApp } from '../../api/app';
import type { RunDetail } from '../../api/workflows/run-views';
import type { TemporalConfig } from '../../temporal/config';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { RunResult } from '../../workflows/contracts/run';
import type { Spec } from '../../workflows/contracts/spec';
import { testAuth } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { ensureChromium } from '../setup/ensure-chromium';

/** See web-ui.test.ts: without these, Chromium's start-up stalls on this machine's closed network. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const UI_WAIT_MS = 20_000;
const PROMPT = 'Ship <script>alert("x")</script> & friends?';

let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let app: INestApplication;
let baseUrl: string;
let chromiumPath: string;
let specStoreDir: string;
let webhookStoreDir: string;
const auth = testAuth();

async function api<T>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { ...auth.header('admin'), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

before(async () => {
  chromiumPath = await ensureChromium();
  env = await createTestEnv();
  const temporal: TemporalConfig = {
    address: env.address,
    namespace: env.namespace ?? 'default',
    uiUrl: 'http://127.0.0.1:8233',
    taskQueue: `inbox-page-${randomUUID()}`,
  };
  worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: loadOrchestratorWorkerConfig({}),
    workflowBundle: await bundleWorkflowsOnce(),
    identityEnv: auth.env,
  });
  workerRun = worker.run();
  specStoreDir = await fs.mkdtemp(path.join(os.tmpdir(), 'inbox-page-specs-'));
  webhookStoreDir = await fs.mkdtemp(path.join(os.tmpdir(), 'inbox-page-webhooks-'));
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
  if (specStoreDir) await fs.rm(specStoreDir, { recursive: true, force: true });
  if (webhookStoreDir) await fs.rm(webhookStoreDir, { recursive: true, force: true });
});

test(
  'sign in, see the approval, reject it with a comment; forged and stale posts are refused',
  { timeout: 120_000 },
  async () => {
    const spec: Spec = {
      name: 'page-release',
      steps: [
        { id: 'approve', kind: 'approval', prompt: PROMPT, approvers: ['release-managers'], onReject: 'continue' },
        // Keeps the run open after the page decided, so the stale tab meets a decided step.
        { id: 'hold', kind: 'approval' },
      ],
    };
    const started = await api<{ workflowId: string }>('POST', '/workflows', { spec, runId: randomUUID() });
    assert.equal(started.status, 201);
    const { workflowId } = started.body;
    await waitFor('the approval in the inbox', async () => {
      const { body } = await api<ListApprovalsResponse>('GET', '/approvals?spec=page-release');
      return body.approvals.some((a) => a.workflowId === workflowId);
    });
    const historyLength = async () =>
      (await api<RunDetail>('GET', `/workflows/${encodeURIComponent(workflowId)}`)).body.historyLength;

    const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'inbox-page-test-'));
    const profile = path.join(outDir, 'profile');
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1200, height: 1000 },
    });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      const first = await page.goto(`${baseUrl}/approvals`);
      assert.equal(first?.status(), 401, 'no session: the sign-in form');
      await page.getByLabel('Bearer token').fill(auth.tokens.ana);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('Signed in as ana').waitFor({ timeout: UI_WAIT_MS });
      const cookies = await browser.cookies(`${baseUrl}/approvals`);
      const session = cookies.find((c) => c.name === 'agent_session');
      assert.ok(session, 'the session cookie is set');
      assert.deepEqual([session.httpOnly, session.sameSite, session.path], [true, 'Strict', '/approvals']);

      const listed = await page.reload();
      assert.match(listed?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
      const card = page.locator(`article[data-workflow-id="${workflowId}"]`);
      await card.waitFor({ timeout: UI_WAIT_MS });
      assert.equal(await card.locator('.prompt').textContent(), PROMPT, 'the prompt is text, not markup');
      assert.equal(await page.locator('script').count(), 0);

      // A post that rides on the session cookie but lacks the page's CSRF token changes nothing.
      const lengthBefore = await historyLength();
      const forged = await browser.request.post(`${baseUrl}/approvals/decide`, {
        form: { workflowId, stepId: 'approve', decision: 'approve' },
        maxRedirects: 0,
      });
      assert.equal(forged.status(), 403);
      assert.match(await forged.text(), /CSRF/);
      const wrongToken = await browser.request.post(`${baseUrl}/approvals/decide`, {
        form: { workflowId, stepId: 'approve', decision: 'approve', csrf: 'x'.repeat(43) },
        maxRedirects: 0,
      });
      assert.equal(wrongToken.status(), 403);
      const crossSite = await browser.request.post(`${baseUrl}/approvals/decide`, {
        form: { workflowId, stepId: 'approve', decision: 'approve' },
        headers: { origin: 'http://attacker.example' },
        maxRedirects: 0,
      });
      assert.equal(crossSite.status(), 403);
      assert.equal(await historyLength(), lengthBefore, 'refused posts leave history unchanged');

      // A second tab shows the same approval; it goes stale once the first decides.
      const stale = await browser.newPage();
      await stale.goto(`${baseUrl}/approvals`);
      const staleCard = stale.locator(`article[data-workflow-id="${workflowId}"]`);
      await staleCard.waitFor({ timeout: UI_WAIT_MS });

      await card.getByLabel('Comment').fill('not this week <b>sorry</b>');
      await card.getByRole('button', { name: 'Reject' }).click();
      await page.getByText(`Rejected step "approve" of run ${workflowId}.`).waitFor({ timeout: UI_WAIT_MS });

      await staleCard.getByRole('button', { name: 'Approve' }).click();
      const conflict = stale.locator('.flash.error');
      await conflict.waitFor({ timeout: UI_WAIT_MS });
      assert.match((await conflict.textContent()) ?? '', /Not decided \(409\): .*already decided/i);

      const screenshot = path.join(outDir, 'inbox.png');
      await stale.screenshot({ path: screenshot, fullPage: true });
      console.log(`inbox page screenshot: ${screenshot}`);

      const hold = await api('POST', `/workflows/${encodeURIComponent(workflowId)}/approvals/hold`, {
        decision: 'approve',
      });
      assert.equal(hold.status, 200);
      const result = await env.client.workflow.getHandle(workflowId).result();
      const output = (result as RunResult).steps.approve?.output as Record<string, unknown>;
      assert.deepEqual(
        [output.decision, output.by, output.channel, output.comment],
        ['reject', 'ana', 'api', 'not this week <b>sorry</b>'],
      );

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByText('Signed out.').waitFor({ timeout: UI_WAIT_MS });
      await page.getByLabel('Bearer token').waitFor({ timeout: UI_WAIT_MS });
      assert.equal(
        (await browser.cookies(`${baseUrl}/approvals`)).some((c) => c.name === 'agent_session'),
        false,
      );
    } finally {
      await browser.close();
      await fs.rm(profile, { recursive: true, force: true });
    }
  },
);
