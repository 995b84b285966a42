/**
 * An MCP server's elicitation answered through the REST API: a real Temporal dev server, the
 * orchestrator worker in this process with a `.mcp.json` whose `asking` server
 * (test/fixtures/mcp/asking-server.ts, over stdio) may elicit, and the Nest app with real static
 * tokens. The inbox lists the request as a pending input with its schema; a person answers it on
 * the approvals decide route; content that fails the schema is refused at the edge (400 naming
 * the field) and the run waits on.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ListApprovalsResponse, PendingApprovalItem } from '../../api/approvals/approval-views';
import type { ApprovalResponse, RunDetail } from '../../api/workflows/run-views';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import type { Spec } from '../../workflows/contracts/spec';
import { tempDir, writeJson } from '../fixtures/mcp/harness';
import { startTestApp, type TestApp } from '../helpers/api-app';
import { testAuth, type TestUser } from '../helpers/api-auth';
import { waitFor } from '../helpers/journal';
import { bundleWorkflowsOnce, createTestEnv } from '../helpers/temporal';
import { runInProcess, testDataEnv, testTemporalConfig } from '../helpers/worker';

interface ErrorBody {
  statusCode: number;
  message: string;
  issues?: Array<{ path: string; message: string }>;
}

let env: TestWorkflowEnvironment;
let api: TestApp | undefined;
let stopWorker: (() => Promise<void>) | undefined;
const auth = testAuth();

async function http<T = ErrorBody>(method: string, route: string, body?: unknown, user: TestUser = 'admin') {
  const res = await fetch(`${api?.baseUrl}${route}`, {
    method,
    headers: { ...auth.header(user), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

before(async () => {
  const dir = tempDir('mcp-elicit-api-');
  writeJson(path.join(dir, '.mcp.json'), {
    mcpServers: {
      asking: {
        command: process.execPath,
        args: ['--import', 'tsx', path.join(__dirname, '..', 'fixtures', 'mcp', 'asking-server.ts')],
        cwd: path.resolve(__dirname, '..', '..'),
        elicitation: { allowed: true, approvers: ['group:release-managers'], timeout: '1h' },
      },
    },
  });
  env = await createTestEnv();
  const temporal = testTemporalConfig(env, `elicit-e2e-${randomUUID()}`);
  const worker = await createOrchestratorWorker({
    connection: env.nativeConnection,
    temporal,
    config: { ...loadOrchestratorWorkerConfig({ ...testDataEnv(), MCP_CONFIG: dir }), shutdownGraceTimeMs: 1_000 },
    workflowBundle: await bundleWorkflowsOnce(),
  });
  stopWorker = runInProcess(worker);
  api = await startTestApp({ temporal, auth: auth.auth, client: env.client });
});

after(async () => {
  await api?.stop();
  await stopWorker?.();
  await env?.teardown();
});

const spec: Spec = {
  name: 'elicit-api',
  steps: [
    {
      id: 'book',
      kind: 'tool',
      tool: 'asking.book',
      args: { event: 'launch' },
      startToCloseTimeout: '2m',
      retry: { maxAttempts: 1 },
    },
  ],
};
const INPUT = 'book~input-1';

async function startAndWaitForInput(): Promise<{ workflowId: string; item: PendingApprovalItem }> {
  const started = await http<{ workflowId: string }>('POST', '/workflows', { spec }, 'operator');
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const { workflowId } = started.body;
  const item = await waitFor('the input in GET /approvals', async () => {
    const reply = await http<ListApprovalsResponse>('GET', '/approvals?pageSize=1000', undefined, 'ana');
    return reply.body.approvals.find((a) => a.workflowId === workflowId && a.stepId === INPUT);
  });
  return { workflowId, item };
}

const decide = <T = ErrorBody>(workflowId: string, body: unknown, user: TestUser = 'ana') =>
  http<T>('POST', `/workflows/${encodeURIComponent(workflowId)}/approvals/${encodeURIComponent(INPUT)}`, body, user);

async function finished(workflowId: string): Promise<RunDetail> {
  return waitFor('the run to end', async () => {
    const reply = await http<RunDetail>('GET', `/workflows/${encodeURIComponent(workflowId)}`);
    return reply.body.status === 'completed' || reply.body.status === 'failed' ? reply.body : undefined;
  });
}

const outputOf = (run: RunDetail) => (run.result as { output: { book: { text: string } } }).output.book;

test('the inbox shows the input with its schema; accepted content reaches the server', async () => {
  const { workflowId, item } = await startAndWaitForInput();
  assert.equal(item.kind, 'input');
  assert.equal(item.server, 'asking');
  assert.match(item.prompt ?? '', /How many seats for launch\?/);
  assert.deepEqual(item.approvers, ['group:release-managers']);
  assert.equal(item.mayDecide, true);
  assert.deepEqual((item.requestedSchema as { required: string[] }).required, ['name', 'seats']);

  // Refused at the edge, naming the field; the run goes on waiting.
  const tooMany = await decide(workflowId, { decision: 'accept', content: { name: 'Ana', seats: 9 } });
  assert.equal(tooMany.status, 400, JSON.stringify(tooMany.body));
  assert.deepEqual(
    tooMany.body.issues?.map((i) => i.path),
    ['content.seats'],
  );
  const badEmail = await decide(workflowId, { decision: 'accept', content: { name: 'Ana', seats: 1, email: 'nope' } });
  assert.equal(badEmail.status, 400);
  assert.match(badEmail.body.message, /^content\.email: must match format "email"/);
  const missing = await decide(workflowId, { decision: 'accept', content: { seats: 1 } });
  assert.equal(missing.status, 400);
  assert.match(missing.body.message, /^content\.name: /);
  const noContent = await decide(workflowId, { decision: 'accept' });
  assert.equal(noContent.status, 400);
  assert.match(noContent.body.message, /^content: required to accept/);
  const approve = await decide(workflowId, { decision: 'approve' });
  assert.equal(approve.status, 409, 'a well-formed body the step does not take');
  assert.match(approve.body.message, /is an input: answer it with accept, decline or cancel/);
  const withChoice = await decide(workflowId, { decision: 'decline', choice: 'x' });
  assert.equal(withChoice.status, 400, 'an input takes no choice: the schema says so');
  const unknownDecision = await decide(workflowId, { decision: 'maybe' });
  assert.equal(unknownDecision.status, 400);
  assert.match(unknownDecision.body.message, /^decision: /);
  // Someone the approvers do not name.
  const outsider = await decide(workflowId, { decision: 'accept', content: { name: 'M', seats: 1 } }, 'mallory');
  assert.equal(outsider.status, 403);

  const accepted = await decide<ApprovalResponse>(workflowId, {
    decision: 'accept',
    content: { name: 'Ana', seats: 2, email: 'ana@example.com' },
  });
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  assert.equal(accepted.body.decision, 'accept');
  assert.equal(accepted.body.by, 'ana');
  assert.deepEqual(accepted.body.content, { name: 'Ana', seats: 2, email: 'ana@example.com' });

  const run = await finished(workflowId);
  assert.equal(run.status, 'completed');
  assert.equal(outputOf(run).text, 'booked 2 for Ana');
  const again = await decide(workflowId, { decision: 'decline' });
  assert.equal(again.status, 409, 'an answered input takes no second answer');
});

test('decline through the API reaches the server as a decline', async () => {
  const { workflowId } = await startAndWaitForInput();
  const declined = await decide<ApprovalResponse>(workflowId, { decision: 'decline', comment: 'sold out' });
  assert.equal(declined.status, 200, JSON.stringify(declined.body));
  assert.equal(declined.body.decision, 'decline');
  const run = await finished(workflowId);
  assert.equal(outputOf(run).text, 'no booking: decline');
});
