/**
 * An MCP server that elicits during a tool call (test/fixtures/mcp/asking-server.ts, over stdio),
 * configured through `.mcp.json` and run by an orchestrator worker on a real Temporal dev server:
 * the run shows a pending input on the tool step; the answer given through the run's `approve`
 * update reaches the server, which puts it in the tool's result. A timeout declines; a server not
 * allowed to elicit is refused by the SDK (the client declared no elicitation capability).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { defaultPayloadConverter, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import {
  approveUpdate,
  LAST_DECISION_MEMO,
  progressQuery,
  type ApprovalInput,
  type ClosedApproval,
} from '../../workflows/contracts/run';
import { mcpElicitationUpdate, type ElicitationAsk } from '../../workflows/contracts/mcp-client';
import type { Spec } from '../../workflows/contracts/spec';
import {
  askingServer,
  startMcpWorker,
  tempDir,
  writeJson,
  type McpWorker,
  type RunHandle,
} from '../fixtures/mcp/harness';
import { failureChain } from '../helpers/failures';
import { waitFor } from '../helpers/journal';
import { createTestEnv } from '../helpers/temporal';
import { testDataEnv } from '../helpers/worker';

let env: TestWorkflowEnvironment;
let mcp: McpWorker;

before(async () => {
  const dir = tempDir('mcp-elicit-');
  writeJson(path.join(dir, '.mcp.json'), {
    mcpServers: {
      asking: askingServer({ elicitation: { allowed: true, approvers: ['group:ops'], timeout: '1h' } }),
      // Short enough that nobody answers: the timeout declines.
      hasty: askingServer({ elicitation: { allowed: true, timeout: '1s' } }),
      mute: askingServer({}),
    },
  });
  env = await createTestEnv();
  mcp = await startMcpWorker(env, { config: loadOrchestratorWorkerConfig({ ...testDataEnv(), MCP_CONFIG: dir }) });
});

after(async () => {
  await mcp?.stop();
  await env?.teardown();
});

const bookSpec = (server: string): Spec => ({
  name: 'mcp-elicit',
  steps: [
    {
      id: 'book',
      kind: 'tool',
      tool: `${server}.book`,
      args: { event: 'launch' },
      startToCloseTimeout: '2m',
      retry: { maxAttempts: 1 },
    },
  ],
});

async function pendingInput(handle: RunHandle) {
  return waitFor('the pending input', async () =>
    (await handle.query(progressQuery)).pendingApprovals.find((a) => a.stepId === 'book~input-1'),
  );
}

const answer = (handle: RunHandle, input: Omit<ApprovalInput, 'stepId'>) =>
  handle.executeUpdate(approveUpdate, { args: [{ stepId: 'book~input-1', ...input }] });

async function bookOutput(handle: RunHandle) {
  const result = await handle.result();
  return result.steps.book?.output as { text: string; structured: { action: string; content?: unknown } };
}

test('the run shows the server’s request as a pending input; accepted content reaches the server', async () => {
  const handle = await mcp.start(bookSpec('asking'));
  const pending = await pendingInput(handle);
  assert.equal(pending.kind, 'input');
  assert.equal(pending.server, 'asking');
  assert.match(pending.prompt ?? '', /asking.*How many seats for launch\?/);
  assert.deepEqual(pending.approvers, ['group:ops']);
  assert.ok(pending.timeoutAt, 'the input has a timeout');
  assert.deepEqual((pending.requestedSchema as { required: string[] }).required, ['name', 'seats']);
  const progress = await handle.query(progressQuery);
  assert.equal(progress.steps.book?.status, 'waiting');
  assert.equal(progress.phase, 'waiting_approval');

  // The update is the tool activity's; sent by hand, a request must name a running step and be well formed.
  const byHand = (ask: unknown) => handle.executeUpdate(mcpElicitationUpdate, { args: [ask as ElicitationAsk] });
  const refusedWith = (re: RegExp) => (err: unknown) =>
    err instanceof WorkflowUpdateFailedError && re.test(String(err.cause?.message));
  await assert.rejects(
    byHand({ step: 'nope', server: 'x', message: 'm', requestedSchema: {}, timeoutMs: 1 }),
    refusedWith(/no step "nope" is running/),
  );
  await assert.rejects(byHand({ step: 'book', server: 'x' }), refusedWith(/a malformed elicitation request/));

  // Only the named approvers may answer.
  await assert.rejects(
    answer(handle, { decision: 'approve', by: 'bob', groups: [], content: { name: 'Bob', seats: 1 } }),
    (err: unknown) => err instanceof WorkflowUpdateFailedError && /may not decide/.test(String(err.cause?.message)),
  );
  // Accepting takes content.
  await assert.rejects(
    answer(handle, { decision: 'approve', by: 'ana', groups: ['ops'] }),
    (err: unknown) =>
      err instanceof WorkflowUpdateFailedError && /content is required/.test(String(err.cause?.message)),
  );
  await answer(handle, { decision: 'approve', by: 'ana', groups: ['ops'], content: { name: 'Ana', seats: 2 } });
  const output = await bookOutput(handle);
  assert.equal(output.text, 'booked 2 for Ana');
  assert.deepEqual(output.structured, { action: 'accept', content: { name: 'Ana', seats: 2 } });
});

test('decline and cancel reach the server as such', async () => {
  for (const [decision, choice, expected] of [
    ['reject', undefined, 'decline'],
    ['reject', 'cancel', 'cancel'],
  ] as const) {
    const handle = await mcp.start(bookSpec('asking'));
    await pendingInput(handle);
    await answer(handle, { decision, by: 'ana', groups: ['ops'], ...(choice && { choice }) });
    const output = await bookOutput(handle);
    assert.equal(output.text, `no booking: ${expected}`);
    assert.deepEqual(output.structured, { action: expected });
  }
});

test('nobody answers before the timeout: the request is declined', async () => {
  const handle = await mcp.start(bookSpec('hasty'));
  const output = await bookOutput(handle);
  assert.equal(output.text, 'no booking: decline');
  const history = await handle.fetchHistory();
  const closed = (history.events ?? []).flatMap((e) => {
    const payload = e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[LAST_DECISION_MEMO];
    return payload ? [defaultPayloadConverter.fromPayload<ClosedApproval>(payload)] : [];
  });
  assert.deepEqual(
    closed.map((c) => [c.stepId, c.decision, c.by, c.timedOut]),
    [['book~input-1', 'reject', 'timeout', true]],
    'the input was closed by its timeout (a decline)',
  );
});

test('a server not allowed to elicit gets the SDK’s refusal: the client declared no elicitation', async () => {
  const handle = await mcp.start(bookSpec('mute'));
  const err = await handle.result().then(
    () => assert.fail('the run completed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError);
  assert.match(String(err.cause?.message), /client refused: .*does not support .*elicitation/i);
  assert.deepEqual((await handle.query(progressQuery)).pendingApprovals, []);
});

test('cancelling the run while the input waits closes the input with the step', async () => {
  const handle = await mcp.start(bookSpec('asking'));
  await pendingInput(handle);
  await handle.cancel();
  await assert.rejects(handle.result(), (err: unknown) => {
    assert.ok(err instanceof WorkflowFailedError);
    assert.equal(err.cause?.name, 'CancelledFailure', failureChain(err));
    return true;
  });
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const accepted = events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
  const completed = events.filter((e) => e.workflowExecutionUpdateCompletedEventAttributes).length;
  assert.ok(accepted >= 1);
  assert.equal(completed, accepted, 'the update handler ended with the step, before the run closed');
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
});
