/**
 * Cancelling a run reaches the MCP server: the workflow cancels the step's activity, the activity's
 * cancellation signal aborts the SDK request, and the SDK sends notifications/cancelled to the
 * server process (a fixture server, since the published ones do not report cancellations).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { McpClientPool } from '../../activities/mcp/pool';
import { progressQuery } from '../../workflows/contracts/run';
import { type Spec } from '../../workflows/contracts/spec';
import { createTestEnv } from '../helpers/temporal';
import { startMcpWorker, tempDir, waitUntil, type McpWorker } from '../fixtures/mcp/harness';

const log = path.join(tempDir('mcp-cancel-'), 'server.ndjson');
const entries = (): Array<{ event: string; requestId: number; reason?: string; at: number }> =>
  existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];

let env: TestWorkflowEnvironment;
let pool: McpClientPool;
let mcp: McpWorker;

before(async () => {
  env = await createTestEnv();
  pool = new McpClientPool({
    servers: {
      slow: {
        name: 'slow',
        transport: 'stdio',
        command: process.execPath,
        args: ['--import', 'tsx', path.join(__dirname, '..', 'fixtures', 'mcp', 'cancel-aware-server.ts')],
        env: { FIXTURE_LOG: log },
        cwd: process.cwd(),
        source: 'test',
      },
    },
    disabled: [],
    files: [],
  });
  mcp = await startMcpWorker(env, { pool });
});

after(async () => {
  await mcp?.stop();
  await pool?.close();
  await env?.teardown();
});

test('cancelling the run cancels the MCP request in the server', async () => {
  const spec: Spec = {
    name: 'mcp-cancel',
    steps: [{ id: 'long', kind: 'tool', tool: 'slow.wait', args: { ms: 60_000 }, heartbeatTimeout: '1s' }],
  };
  const handle = await mcp.start(spec);
  await waitUntil('the server to start the call', () => entries().some((e) => e.event === 'start'));
  await handle.cancel();
  const err = await handle.result().then(
    () => assert.fail('the run should end cancelled'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, String(err));
  // The step waits for the activity to confirm, so by now the server has been told.
  const seen = await waitUntil(
    'the server to see the cancellation',
    () => entries().find((e) => e.event === 'cancelled'),
    2_000,
  );
  assert.equal(seen.requestId, entries().find((e) => e.event === 'start')?.requestId);
  assert.ok(!entries().some((e) => e.event === 'done'));
  assert.equal((await handle.query(progressQuery)).steps.long?.status, 'cancelled');
  assert.equal(pool.inventory()[0]?.inFlight, 0, 'the slot was given back');
});
