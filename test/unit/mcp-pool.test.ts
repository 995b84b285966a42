import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { McpConfig } from '../../activities/mcp/config/types';
import { McpUnknownServerError, McpUnknownToolError } from '../../activities/mcp/errors';
import { McpClientPool, type McpPoolOptions } from '../../activities/mcp/pool';
import { Semaphore } from '../../activities/mcp/semaphore';
import { inMemoryServer, type InMemoryServer } from '../fixtures/mcp/in-memory-server';

/** The pool needs a config entry per server; the in-memory factory ignores what it says. */
function configOf(...names: string[]): McpConfig {
  const servers = Object.fromEntries(
    names.map((name) => [
      name,
      { name, transport: 'stdio' as const, command: 'unused', args: [], env: {}, cwd: '.', source: 'test' },
    ]),
  );
  return { servers, disabled: ['off'], files: [] };
}

function poolFor(server: InMemoryServer, options: McpPoolOptions = {}): McpClientPool {
  return new McpClientPool(configOf('mem'), { transportFactory: server.factory, ...options });
}

async function until(what: string, probe: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

const echoTools = (server: import('@modelcontextprotocol/sdk/server/mcp.js').McpServer) => {
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
};

test('connects lazily, once, however many callers arrive together', async () => {
  const server = inMemoryServer(echoTools);
  const pool = poolFor(server);
  try {
    assert.equal(pool.inventory()[0]?.status, 'idle');
    assert.equal(server.instances.length, 0, 'nothing connects before first use');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pool.callTool('mem', 'echo', { text: `#${i}` })),
    );
    assert.deepEqual(
      results.map((r) => r.content[0]),
      Array.from({ length: 20 }, (_, i) => ({ type: 'text', text: `#${i}` })),
    );
    assert.equal(server.instances.length, 1, 'one session for all callers');
    assert.equal(server.count('out', 'initialize'), 1);
    assert.equal(server.count('out', 'tools/list'), 1, 'the catalogue is fetched once and shared');
    const [inv] = pool.inventory();
    assert.equal(inv?.status, 'connected');
    assert.equal(inv?.toolCount, 1);
    assert.equal(inv?.connects, 1);
  } finally {
    await pool.close();
  }
});

test('the tool list is cached for the TTL and fetched again after it', async () => {
  let now = 1_000_000;
  const server = inMemoryServer(echoTools);
  const pool = poolFor(server, { toolCacheTtlMs: 60_000, now: () => now });
  try {
    assert.deepEqual(
      (await pool.listTools('mem')).map((t) => t.name),
      ['echo'],
    );
    // A tool appears but the server's notification is lost: only the TTL can reveal it.
    server.muteListChanged = true;
    server.instances[0]!.registerTool('later', {}, async () => ({ content: [] }));
    now += 59_000;
    assert.deepEqual(
      (await pool.listTools('mem')).map((t) => t.name),
      ['echo'],
    );
    assert.equal(server.count('out', 'tools/list'), 1);
    now += 2_000;
    assert.deepEqual(
      (await pool.listTools('mem')).map((t) => t.name),
      ['echo', 'later'],
    );
    assert.equal(server.count('out', 'tools/list'), 2);
    assert.equal(pool.inventory()[0]?.catalogueAgeMs, 0);
  } finally {
    await pool.close();
  }
});

test('a fresh listing asks the server whatever the cache holds', async () => {
  const server = inMemoryServer(echoTools);
  const pool = poolFor(server, { toolCacheTtlMs: 3_600_000 });
  try {
    await pool.listTools('mem');
    server.muteListChanged = true;
    server.instances[0]!.registerTool('quiet', {}, async () => ({ content: [] }));
    assert.deepEqual(
      (await pool.listTools('mem')).map((t) => t.name),
      ['echo'],
    );
    assert.deepEqual(
      (await pool.listTools('mem', true)).map((t) => t.name),
      ['echo', 'quiet'],
    );
    assert.deepEqual(
      (await pool.listTools('mem')).map((t) => t.name),
      ['echo', 'quiet'],
      'and the cache keeps it',
    );
  } finally {
    await pool.close();
  }
});

test('notifications/tools/list_changed refreshes the list at once, TTL or not', async () => {
  const server = inMemoryServer(echoTools);
  const pool = poolFor(server, { toolCacheTtlMs: 3_600_000 });
  try {
    await pool.listTools('mem');
    const fetched = server.count('out', 'tools/list');
    const added = server.instances[0]!.registerTool('added', {}, async () => ({ content: [] }));
    await until('the refresh after list_changed', () => server.count('out', 'tools/list') > fetched);
    await until('the new list in the cache', () => pool.inventory()[0]?.toolCount === 2);
    assert.deepEqual(
      (await pool.listTools('mem')).map((t) => t.name),
      ['echo', 'added'],
    );
    added.remove();
    await until('the removal in the cache', () => pool.inventory()[0]?.toolCount === 1);
    await assert.rejects(pool.callTool('mem', 'added', {}), McpUnknownToolError);
  } finally {
    await pool.close();
  }
});

test('an unknown tool or server is named together with what exists', async () => {
  const server = inMemoryServer(echoTools);
  const pool = poolFor(server);
  try {
    await assert.rejects(pool.callTool('mem', 'nope', {}), (err: unknown) => {
      assert.ok(err instanceof McpUnknownToolError);
      assert.match(err.message, /unknown tool "mem\.nope" \(available: mem\.echo\)/);
      return true;
    });
    assert.throws(() => pool.connection('elsewhere'), /unknown MCP server "elsewhere" \(configured: mem\)/);
    assert.throws(
      () => pool.connection('off'),
      (err: unknown) => err instanceof McpUnknownServerError && /disabled/.test(err.message),
    );
  } finally {
    await pool.close();
  }
});

test('requests in flight per server stay within the bound', async () => {
  let inFlight = 0;
  let most = 0;
  const server = inMemoryServer((s) => {
    s.registerTool('slow', {}, async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await delay(30);
      inFlight--;
      return { content: [{ type: 'text', text: 'done' }] };
    });
  });
  const pool = poolFor(server, { maxConcurrencyPerServer: 3 });
  try {
    await Promise.all(Array.from({ length: 12 }, () => pool.callTool('mem', 'slow', {})));
    assert.equal(most, 3);
  } finally {
    await pool.close();
  }
});

test('a dropped connection is opened again on next use, with a fresh tool list', async () => {
  const server = inMemoryServer((s, connection) => {
    s.registerTool(connection === 0 ? 'v1' : 'v2', {}, async () => ({
      content: [{ type: 'text', text: `conn ${connection}` }],
    }));
  });
  const pool = poolFor(server);
  try {
    assert.equal((await pool.callTool('mem', 'v1', {})).content[0]?.type, 'text');
    await server.crash();
    await until('the pool to notice', () => pool.inventory()[0]?.status === 'disconnected');
    const after = await pool.callTool('mem', 'v2', {});
    assert.deepEqual(after.content, [{ type: 'text', text: 'conn 1' }]);
    assert.equal(pool.inventory()[0]?.connects, 2);
    assert.equal(server.count('out', 'initialize'), 2);
  } finally {
    await pool.close();
  }
});

test('aborting a call cancels the request on the server', async () => {
  let serverSaw: string | undefined;
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const server = inMemoryServer((s) => {
    s.registerTool('wait', {}, async (extra) => {
      markStarted();
      await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve()));
      serverSaw = String(extra.signal.reason);
      return { content: [] };
    });
  });
  const pool = poolFor(server);
  try {
    const abort = new AbortController();
    const call = pool.callTool('mem', 'wait', {}, { signal: abort.signal });
    await started;
    abort.abort(new Error('step cancelled'));
    await assert.rejects(call, /step cancelled/);
    await until('the server to see the cancellation', () => serverSaw !== undefined);
    assert.equal(server.count('out', 'notifications/cancelled'), 1);
    assert.match(serverSaw!, /step cancelled/);
  } finally {
    await pool.close();
  }
});

test('close() ends every session and refuses further use', async () => {
  const server = inMemoryServer(echoTools);
  const pool = poolFor(server);
  await pool.callTool('mem', 'echo', { text: 'x' });
  await pool.close();
  await pool.close();
  assert.equal(pool.inventory()[0]?.status, 'closed');
  assert.throws(() => pool.connection('mem'), /pool is closed/);
});

test('semaphore waiters leave the queue when their signal aborts', async () => {
  const sem = new Semaphore(1);
  const release = await sem.acquire();
  const abort = new AbortController();
  const waiting = sem.acquire(abort.signal);
  assert.equal(sem.queued, 1);
  abort.abort(new Error('gone'));
  await assert.rejects(waiting, /gone/);
  assert.equal(sem.queued, 0);
  release();
  assert.equal(sem.inFlight, 0);
  (await sem.acquire())();
});
