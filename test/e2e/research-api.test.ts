/**
 * A `research` run started with one `curl` through the REST API, as the README shows, against a
 * real Temporal dev server and the orchestrator worker. The model is a stand-in for a hosted one:
 * a local HTTP server speaking the real OpenAI chat-completions wire format.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../../api/app';
import type { RunDetail, StartRunResponse } from '../../api/workflows/run-views';
import type { UsageTotals } from '../../workflows/contracts/llm';
import type { ResearchOutput } from '../../workflows/orchestrations/research';
import type { RunResult } from '../../workflows/contracts/run';
import { waitFor } from '../helpers/journal';
import { createTestEnv } from '../helpers/temporal';
import { startLlmWorker, type LlmWorker } from '../fixtures/llm/harness';
import { StandInModelServer } from '../fixtures/llm/model-server';
import { researchScript, roleOf } from '../fixtures/llm/research-script';
import { testAuth } from '../helpers/api-auth';

const auth = testAuth();

const EXAMPLES = path.resolve(__dirname, '../../examples');
let env: TestWorkflowEnvironment;
let server: StandInModelServer;
let llm: LlmWorker;
let app: INestApplication;
let baseUrl: string;
let specStoreDir: string;
let webhookStoreDir: string;

before(async () => {
  env = await createTestEnv();
  server = await StandInModelServer.start(researchScript());
  llm = await startLlmWorker(env, server);
  specStoreDir = await mkdtemp(path.join(tmpdir(), 'research-specs-'));
  webhookStoreDir = await mkdtemp(path.join(tmpdir(), 'research-webhooks-'));
  app = await createApp({
    temporal: {
      address: env.address,
      namespace: env.namespace ?? 'default',
      uiUrl: 'http://127.0.0.1:8233',
      taskQueue: llm.taskQueue,
    },
    auth: auth.auth,
    client: env.client,
    specStoreDir,
    webhookStoreDir,
    examplesDir: EXAMPLES,
    port: 0,
    logger: false,
  });
  baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
});

after(async () => {
  await app?.close();
  await llm?.stop();
  await server?.close();
  await env?.teardown();
  if (specStoreDir) await rm(specStoreDir, { recursive: true, force: true });
  if (webhookStoreDir) await rm(webhookStoreDir, { recursive: true, force: true });
});

test('one curl starts examples/research.spec.yaml; GET /workflows/:id shows the report, usage and cost', async () => {
  const runId = `curl-${randomUUID()}`;
  const body = JSON.stringify({
    specName: 'research',
    inputs: { question: 'What makes agents durable?', subQuestions: 4, synthesisers: 2 },
    runId,
  });
  const { stdout } = await promisify(execFile)('curl', [
    '-s',
    '-X',
    'POST',
    `${baseUrl}/workflows`,
    '-H',
    'content-type: application/json',
    '-H',
    `authorization: ${auth.header('operator').authorization}`,
    '-d',
    body,
  ]);
  const started = JSON.parse(stdout) as StartRunResponse;
  assert.equal(started.workflowId, `research:${runId}`);
  assert.equal(started.created, true);

  const detail = await waitFor(
    'the research run to complete',
    async () => {
      const res = await fetch(`${baseUrl}/workflows/${started.workflowId}`, { headers: auth.header('viewer') });
      const d = (await res.json()) as RunDetail & { result?: RunResult; usage?: UsageTotals };
      return d.status === 'completed' ? d : undefined;
    },
    60_000,
  );
  const report = detail.result?.output as ResearchOutput;
  assert.equal(report.question, 'What makes agents durable?');
  assert.equal(report.findings.length, 4);
  assert.equal(report.syntheses.length, 2);
  assert.match(
    report.report,
    /^REPORT \[synthesis of sub-question 1, sub-question 2 \/ synthesis of sub-question 3, sub-question 4\]$/,
  );
  assert.equal(server.exchanges.filter((e) => roleOf(e) === 'researcher').length, 4);

  // 8 calls of 150 tokens at $1/$2 per million input/output tokens.
  const expected = { calls: 8, totalTokens: 1200, costUsd: (8 * 100 * 1 + 8 * 50 * 2) / 1e6 };
  assert.equal(detail.usage?.calls, expected.calls, 'usage from the memo');
  assert.equal(detail.usage?.totalTokens, expected.totalTokens);
  assert.equal(detail.usage?.costUsd, expected.costUsd);
  assert.equal(detail.result?.usage.total.costUsd, expected.costUsd);
  assert.equal(report.usage.costUsd, expected.costUsd);
  assert.ok(report.durationMs > 0);
});
