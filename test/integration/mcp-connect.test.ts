/**
 * Connecting to MCP servers that misbehave, against real processes and a real HTTP server: a
 * stdio server that never answers `initialize` (test/fixtures/mcp/silent-server.mjs, which also
 * ignores SIGTERM and starts a helper in its process group), one that prints garbage on stdout,
 * and an HTTP server that answers 401/403. Connects end within the caller's timeout or on its
 * cancellation, back off after repeated failures, and leave no process behind.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { createMcpActivities } from '../../activities/mcp/activities';
import type { McpServerConfig } from '../../activities/mcp/config/types';
import { McpAuthError, McpConnectBackoffError, McpConnectError } from '../../activities/mcp/errors';
import { McpClientPool, type McpPoolOptions } from '../../activities/mcp/pool';
import type { Spec } from '../../workflows/contracts/spec';
import { startMcpWorker, tempDir, waitUntil } from '../fixtures/mcp/harness';
import { createTestEnv } from '../helpers/temporal';

const SILENT_SERVER = path.join(__dirname, '..', 'fixtures', 'mcp', 'silent-server.mjs');

interface Started {
  pid: number;
  helperPid: number;
}

/** A stdio server entry for the silent fixture, logging its pids to a file of its own. */
function silentServer(
  name: string,
  env: Record<string, string> = {},
): { config: McpServerConfig; started(): Started[] } {
  const log = path.join(tempDir('mcp-connect-'), 'pids.ndjson');
  return {
    config: {
      name,
      transport: 'stdio',
      command: process.execPath,
      args: [SILENT_SERVER],
      env: { PID_LOG: log, ...env },
      cwd: process.cwd(),
      source: 'test',
    },
    started: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Started)
        : [],
  };
}

const poolOf = (servers: McpServerConfig[], options: McpPoolOptions = {}) =>
  new McpClientPool({ servers: Object.fromEntries(servers.map((s) => [s.name, s])), disabled: [], files: [] }, options);

/** A process that still runs; a killed helper may linger as a zombie until init reaps it, which does not count. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const allGone = (started: Started[]) => started.every((s) => !isRunning(s.pid) && !isRunning(s.helperPid));

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

test('a server that never answers initialize fails within the caller timeout; its process group is killed', async () => {
  const server = silentServer('silent');
  const pool = poolOf([server.config]);
  try {
    const err = await rejection(pool.callTool('silent', 'anything', {}, { timeoutMs: 800 }));
    assert.ok(err instanceof McpConnectError, String(err));
    assert.match(err.message, /cannot connect to MCP server "silent": no answer to initialize within 800 ms/);
    assert.match(err.message, /server stderr:\nsilent-server: started, not answering/);
    const started = server.started();
    assert.equal(started.length, 1);
    // The last caller gave up, so the attempt is abandoned and the group killed (SIGTERM is ignored).
    await waitUntil('the server and its helper to be killed', () => allGone(started), 10_000);
    assert.equal(pool.inventory()[0]?.status, 'failed');
  } finally {
    await pool.close();
  }
});

test('a server that prints garbage on stdout fails within the caller timeout and says what it printed', async () => {
  const server = silentServer('noisy', { FIXTURE_GARBAGE: '1' });
  const pool = poolOf([server.config]);
  let started: Started[] = [];
  try {
    const err = await rejection(pool.listTools('noisy', false, { timeoutMs: 800 }));
    assert.ok(err instanceof McpConnectError, String(err));
    assert.match(err.message, /not JSON-RPC: Starting Acme MCP server v0\.0\.1 \.\.\./);
    started = server.started();
    assert.equal(started.length, 1);
  } finally {
    await pool.close();
  }
  assert.ok(allGone(started), 'no process left once the pool is closed');
});

test('cancelling the caller abandons the connect; closing the pool mid-connect kills the server before it returns', async () => {
  const server = silentServer('silent');
  const pool = poolOf([server.config]);
  const controller = new AbortController();
  const pending = pool.listTools('silent', false, { signal: controller.signal });
  await waitUntil('the server to start', () => server.started().length === 1);
  controller.abort(new Error('the step was cancelled'));
  assert.equal((await rejection(pending)).message, 'the step was cancelled');
  await waitUntil('the abandoned server to be killed', () => allGone(server.started()), 10_000);
  assert.equal(pool.inventory()[0]?.status, 'idle', 'a cancelled connect is not counted against the server');

  // No timeout, no signal: only close() ends this connect, and the process is gone when it returns.
  const waiting = rejection(pool.listTools('silent'));
  await waitUntil('a second server to start', () => server.started().length === 2);
  await pool.close();
  assert.ok(allGone(server.started()), 'no process left once the pool is closed');
  assert.match((await waiting).message, /pool is closed/);
});

test('repeated connect failures back off; concurrent callers share one attempt and one back-off', async () => {
  const server = silentServer('silent');
  let now = 1_000_000;
  const pool = poolOf([server.config], { now: () => now, connectBackoff: { initialMs: 60_000, maxMs: 90_000 } });
  const activities = createMcpActivities({ pool });
  try {
    const callers = (n: number) =>
      Promise.all(Array.from({ length: n }, () => rejection(pool.listTools('silent', false, { timeoutMs: 500 }))));

    // First failure: five callers, one process.
    for (const err of await callers(5)) assert.ok(err instanceof McpConnectError, String(err));
    assert.equal(server.started().length, 1, 'one process for five concurrent callers');
    // Second failure: tried again at once, then the pool waits.
    assert.ok((await callers(1))[0] instanceof McpConnectError);
    assert.equal(server.started().length, 2);
    assert.match(pool.inventory()[0]?.lastError ?? '', /2 failures in a row; next attempt in 60\.0 s/);

    for (const err of await callers(5)) {
      assert.ok(err instanceof McpConnectBackoffError, String(err));
      assert.match(err.message, /"silent" failed to connect 2 times in a row; the pool waits 60\.0 s before trying/);
      assert.match(err.message, /last error: cannot connect to MCP server "silent": no answer to initialize/);
    }
    assert.equal(server.started().length, 2, 'no process started during the back-off');

    // The activity reports the back-off as retryable, to be retried when the pool is ready.
    now += 15_000;
    const failure = await rejection(
      new MockActivityEnvironment({ startToCloseTimeoutMs: 5_000 }).run(activities.mcpListTools, { server: 'silent' }),
    );
    assert.ok(failure instanceof ApplicationFailure, String(failure));
    assert.deepEqual([failure.type, failure.nonRetryable], ['McpConnectBackoff', false]);
    assert.equal(failure.nextRetryDelay, 45_000);

    // Once it has passed, one more try; its failure doubles the wait (up to the cap).
    now += 45_000;
    assert.ok((await callers(1))[0] instanceof McpConnectError);
    assert.equal(server.started().length, 3);
    assert.match((await callers(1))[0]!.message, /3 times in a row; the pool waits 90\.0 s/);
  } finally {
    await pool.close();
  }
  assert.ok(allGone(server.started()));
});

let httpServer: Server;
let httpUrl: string;
const httpRequests: string[] = [];

before(async () => {
  httpServer = createServer((req, res) => {
    httpRequests.push(`${req.method} ${req.url}`);
    req.resume();
    const status = req.url?.startsWith('/forbidden') ? 403 : 401;
    res.writeHead(status, { 'www-authenticate': 'Bearer realm="mcp"', 'content-type': 'text/plain' });
    res.end(status === 401 ? 'Unauthorized' : 'Forbidden');
  });
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  httpUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
});

after(() => httpServer?.close());

test('an HTTP server answering 401 or 403 is an authentication error naming the server, not retried', async () => {
  const remote = (name: string, transport: 'http' | 'sse', route: string): McpServerConfig => ({
    name,
    transport,
    url: `${httpUrl}${route}`,
    headers: { authorization: 'Bearer wrong' },
    source: 'test',
  });
  const pool = poolOf([
    remote('guarded', 'http', '/mcp'),
    remote('forbidden', 'http', '/forbidden/mcp'),
    remote('old', 'sse', '/sse'),
  ]);
  const activities = createMcpActivities({ pool });
  try {
    const start = httpRequests.length;
    const err = await rejection(pool.listTools('guarded'));
    assert.ok(err instanceof McpAuthError, String(err));
    assert.match(
      err.message,
      /MCP server "guarded" refused the credentials \(HTTP 401 from http:\/\/127\.0\.0\.1:\d+\/mcp\)/,
    );
    assert.deepEqual(httpRequests.slice(start), ['POST /mcp'], 'no fall-back to SSE after a 401');

    const failure = await rejection(
      new MockActivityEnvironment().run(activities.mcpCallTool, { server: 'forbidden', tool: 'x', arguments: {} }),
    );
    assert.ok(failure instanceof ApplicationFailure, String(failure));
    assert.deepEqual([failure.type, failure.nonRetryable], ['McpAuthError', true]);
    assert.match(failure.message, /MCP server "forbidden" refused the credentials \(HTTP 403/);

    const sse = await rejection(pool.listTools('old'));
    assert.ok(sse instanceof McpAuthError, String(sse));
    assert.match(sse.message, /"old" refused the credentials \(HTTP 401/);
  } finally {
    await pool.close();
  }
});

let env: TestWorkflowEnvironment;

after(async () => {
  await env?.teardown();
});

test('a tool step on a server that never answers fails within the step timeout (6 s of 8 s), and leaves no process', async () => {
  env = await createTestEnv();
  const server = silentServer('silent');
  const pool = poolOf([server.config]);
  const mcp = await startMcpWorker(env, { pool });
  try {
    const spec: Spec = {
      name: 'mcp-silent',
      steps: [
        {
          id: 'ask',
          kind: 'tool',
          tool: 'silent.anything',
          startToCloseTimeout: '8s',
          retry: { maxAttempts: 1 },
        },
      ],
    };
    const err = await rejection(mcp.run(spec));
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const messages: string[] = [];
    for (let e: Error | undefined = err; e; e = (e as { cause?: Error }).cause) messages.push(e.message);
    assert.ok(
      messages.some((m) => /cannot connect to MCP server "silent": no answer to initialize within 6000 ms/.test(m)),
      messages.join('\n'),
    );
  } finally {
    await mcp.stop();
    await pool.close();
  }
  assert.equal(server.started().length, 1);
  assert.ok(allGone(server.started()), 'no process left once the pool is closed');
});
