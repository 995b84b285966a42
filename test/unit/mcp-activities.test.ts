import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { createMcpActivities } from '../../activities/mcp/activities';
import { McpClientPool } from '../../activities/mcp/pool';
import { inMemoryServer } from '../fixtures/mcp/in-memory-server';

const PNG_BASE64 = Buffer.from('not really a png, but bytes all the same').toString('base64');

function setup() {
  const cancelledOnServer: string[] = [];
  let startedWait!: () => void;
  const waiting = new Promise<void>((resolve) => (startedWait = resolve));
  const server = inMemoryServer((s) => {
    s.registerTool(
      'weather',
      { inputSchema: { city: z.string() }, outputSchema: { temp: z.number() } },
      async ({ city }) => ({
        content: [{ type: 'text', text: `${city}: 21°` }],
        structuredContent: { temp: 21 },
      }),
    );
    s.registerTool('picture', {}, async () => ({
      content: [
        { type: 'text', text: 'here it is' },
        { type: 'image', data: PNG_BASE64, mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'file:///notes.txt', mimeType: 'text/plain', text: 'notes' } },
        { type: 'resource_link', uri: 'file:///big.bin', name: 'big.bin', mimeType: 'application/octet-stream' },
      ],
    }));
    s.registerTool('broken', {}, async () => ({ content: [{ type: 'text', text: 'disk full' }], isError: true }));
    s.registerTool('progress', {}, async (extra) => {
      for (let i = 1; i <= 3; i++) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: extra._meta?.progressToken ?? 0, progress: i, total: 3 },
        });
        await delay(20);
      }
      return { content: [{ type: 'text', text: 'ok' }] };
    });
    s.registerTool('wait', {}, async (extra) => {
      startedWait();
      await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve()));
      cancelledOnServer.push(String(extra.signal.reason));
      return { content: [] };
    });
  });
  const pool = new McpClientPool(
    {
      servers: {
        mem: { name: 'mem', transport: 'stdio', command: 'unused', args: [], env: {}, cwd: '.', source: 'test' },
      },
      disabled: [],
      files: [],
    },
    { transportFactory: server.factory },
  );
  const blobDir = mkdtempSync(path.join(tmpdir(), 'mcp-blobs-'));
  const activities = createMcpActivities({ pool, blobDir });
  return { server, pool, activities, blobDir, cancelledOnServer, waiting };
}

/** MockActivityEnvironment.run loses the result type; keep it. */
function run<A extends unknown[], R>(
  env: MockActivityEnvironment,
  fn: (...args: A) => Promise<R>,
  ...args: A
): Promise<R> {
  return env.run(fn, ...args) as Promise<R>;
}

function assertFailure(err: unknown, type: string, nonRetryable: boolean, message?: RegExp): true {
  assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
  assert.equal(err.type, type);
  assert.equal(err.nonRetryable, nonRetryable);
  if (message) assert.match(err.message, message);
  return true;
}

test('mcpListTools reports names and input schemas', async () => {
  const { pool, activities } = setup();
  try {
    const catalogue = await run(new MockActivityEnvironment(), activities.mcpListTools, { server: 'mem' });
    assert.equal(catalogue.server, 'mem');
    assert.deepEqual(
      catalogue.tools.map((t) => t.name),
      ['weather', 'picture', 'broken', 'progress', 'wait'],
    );
    assert.deepEqual(catalogue.tools[0]?.inputSchema.required, ['city']);
    assert.ok(!Number.isNaN(Date.parse(catalogue.fetchedAt)));
  } finally {
    await pool.close();
  }
});

test('text and structured content become the output; binaries become references', async () => {
  const { pool, activities, blobDir } = setup();
  try {
    const env = new MockActivityEnvironment();
    const weather = await run(env, activities.mcpCallTool, {
      server: 'mem',
      tool: 'weather',
      arguments: { city: 'Oslo' },
    });
    assert.deepEqual(weather, {
      text: 'Oslo: 21°',
      structured: { temp: 21 },
      content: [{ type: 'text', text: 'Oslo: 21°' }],
    });

    const picture = await run(env, activities.mcpCallTool, { server: 'mem', tool: 'picture', arguments: {} });
    assert.equal(picture.text, 'here it is');
    const bytes = Buffer.from(PNG_BASE64, 'base64');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const image = picture.content[1];
    assert.ok(image?.type === 'image' && 'ref' in image);
    assert.deepEqual(
      { ...image, ref: undefined },
      { type: 'image', mimeType: 'image/png', bytes: bytes.length, sha256, ref: undefined },
    );
    const file = fileURLToPath(image.ref);
    assert.equal(path.dirname(file), blobDir);
    assert.deepEqual(readFileSync(file), bytes);
    assert.ok(!JSON.stringify(picture).includes(PNG_BASE64), 'no image bytes in the output');
    assert.deepEqual(picture.content[2], {
      type: 'resource',
      uri: 'file:///notes.txt',
      mimeType: 'text/plain',
      text: 'notes',
    });
    assert.deepEqual(picture.content[3], {
      type: 'resource_link',
      uri: 'file:///big.bin',
      name: 'big.bin',
      mimeType: 'application/octet-stream',
    });
  } finally {
    await pool.close();
  }
});

test('a tool error fails without retry and carries the tool message', async () => {
  const { pool, activities } = setup();
  try {
    await assert.rejects(
      run(new MockActivityEnvironment(), activities.mcpCallTool, { server: 'mem', tool: 'broken', arguments: {} }),
      (err) => assertFailure(err, 'McpToolError', true, /^mem\.broken: disk full$/),
    );
  } finally {
    await pool.close();
  }
});

test('unknown tools and servers fail without retry and say what exists', async () => {
  const { pool, activities } = setup();
  try {
    const env = new MockActivityEnvironment();
    await assert.rejects(run(env, activities.mcpCallTool, { server: 'mem', tool: 'nope', arguments: {} }), (err) => {
      assertFailure(err, 'McpUnknownTool', true, /available: mem\.weather, mem\.picture/);
      assert.deepEqual((err as ApplicationFailure).details?.[0], {
        available: ['mem.weather', 'mem.picture', 'mem.broken', 'mem.progress', 'mem.wait'],
      });
      return true;
    });
    await assert.rejects(run(env, activities.mcpCallTool, { server: 'other', tool: 'x', arguments: {} }), (err) =>
      assertFailure(err, 'McpUnknownServer', true, /configured: mem/),
    );
    await assert.rejects(run(env, activities.mcpListTools, { server: 'other' }), (err) =>
      assertFailure(err, 'McpUnknownServer', true),
    );
  } finally {
    await pool.close();
  }
});

test('a connection lost mid-call is a retryable transport failure', async () => {
  const { server, pool, activities, waiting } = setup();
  try {
    const call = run(new MockActivityEnvironment(), activities.mcpCallTool, {
      server: 'mem',
      tool: 'wait',
      arguments: {},
    });
    await waiting;
    await server.crash();
    await assert.rejects(call, (err) =>
      assertFailure(err, 'McpTransportError', false, /mem\.wait: .*Connection closed/),
    );
  } finally {
    await pool.close();
  }
});

test('progress notifications become heartbeat details', async () => {
  const { pool, activities } = setup();
  try {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 10_000 });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    assert.equal(
      (await run(env, activities.mcpCallTool, { server: 'mem', tool: 'progress', arguments: {} })).text,
      'ok',
    );
    assert.deepEqual(
      beats.filter((b) => b !== undefined),
      [1, 2, 3].map((progress) => ({ progress, total: 3 })),
    );
  } finally {
    await pool.close();
  }
});

test('cancelling the activity cancels the MCP request on the server', async () => {
  const { pool, activities, cancelledOnServer, waiting } = setup();
  try {
    const env = new MockActivityEnvironment();
    const call = run(env, activities.mcpCallTool, { server: 'mem', tool: 'wait', arguments: {} });
    await waiting;
    env.cancel();
    await assert.rejects(call, (err) => err instanceof CancelledFailure);
    for (let i = 0; i < 100 && cancelledOnServer.length === 0; i++) await delay(10);
    assert.equal(cancelledOnServer.length, 1);
  } finally {
    await pool.close();
  }
});

test('mcpInventory reports the pool, and lists tools on request', async () => {
  const { pool, activities } = setup();
  try {
    const env = new MockActivityEnvironment();
    const before = await run(env, activities.mcpInventory, {});
    assert.equal(before.servers[0]?.status, 'idle');
    assert.equal(before.servers[0]?.toolCount, null);
    assert.equal(before.tools, undefined);
    const after = await run(env, activities.mcpInventory, { listTools: true });
    assert.equal(after.servers[0]?.status, 'connected');
    assert.equal(after.servers[0]?.toolCount, 5);
    assert.deepEqual(
      after.tools?.map((t) => t.address),
      ['mem.broken', 'mem.picture', 'mem.progress', 'mem.wait', 'mem.weather'],
    );
    assert.deepEqual(after.errors, {});
    assert.equal(after.worker.pid, process.pid);
  } finally {
    await pool.close();
  }
});
