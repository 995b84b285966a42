/**
 * Parts of the orchestrator's MCP server that need no server: the bounded event store behind
 * resumable streams, the Host/Origin check, its settings, and wait_for_run's loop (given a
 * stand-in for the run reader; the e2e tests run it against a real run).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { BoundedEventStore } from '../../api/mcp-server/http/bounded-event-store';
import { isMcpEndpoint, jsonRpcBodyError } from '../../api/mcp-server/http/endpoint';
import { originProblem } from '../../api/mcp-server/http/origin-check';
import { loadMcpServerConfig } from '../../api/mcp-server/mcp-server-config';
import { waitForRun } from '../../api/mcp-server/wait-for-run';
import type { RunDetail } from '../../api/workflows/run-views';
import { ConfigError } from '../../config/config-errors';

const note = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { n } });

async function replay(store: BoundedEventStore, after: string): Promise<{ stream: string; sent: string[] }> {
  const sent: string[] = [];
  const stream = await store.replayEventsAfter(after, {
    send: async (id) => void sent.push(id),
  });
  return { stream, sent };
}

test('the event store replays a stream after an id, skips priming events and drops the oldest past its capacity', async () => {
  const store = new BoundedEventStore(4);
  const priming = await store.storeEvent('a', {} as JSONRPCMessage);
  const a1 = await store.storeEvent('a', note(1));
  const b1 = await store.storeEvent('b', note(2));
  const a2 = await store.storeEvent('a', note(3));
  assert.equal(await store.getStreamIdForEventId(a1), 'a');
  assert.equal(await store.getStreamIdForEventId(b1), 'b');
  assert.deepEqual(await replay(store, priming), { stream: 'a', sent: [a1, a2] }, 'the priming event is not resent');
  assert.deepEqual(await replay(store, a1), { stream: 'a', sent: [a2] });
  assert.deepEqual(await replay(store, b1), { stream: 'b', sent: [] });

  const a3 = await store.storeEvent('a', note(4));
  assert.equal(store.size, 4, 'bounded');
  assert.deepEqual(
    await replay(store, priming),
    { stream: 'a', sent: [a1, a2, a3] },
    'the oldest (priming) was dropped',
  );
  assert.equal(await store.getStreamIdForEventId('no-sequence'), undefined);
  assert.deepEqual(await replay(store, 'garbage'), { stream: '', sent: [] });
});

test('Host must name an allowed host (any port); Origin, when sent, an allowed host or origin', () => {
  const config = {
    allowedHosts: ['localhost', '127.0.0.1', '[::1]', 'agents.example.com'],
    allowedOrigins: ['https://app.example.org'],
  };
  assert.equal(originProblem({ host: '127.0.0.1:3000' }, config), undefined);
  assert.equal(originProblem({ host: '[::1]:3000' }, config), undefined);
  assert.equal(originProblem({ host: 'AGENTS.example.com' }, config), undefined);
  assert.match(
    originProblem({ host: 'evil.example' }, config) ?? '',
    /Host header "evil.example" is not an allowed host/,
  );
  assert.match(originProblem({}, config) ?? '', /Host header null/);
  assert.equal(originProblem({ host: 'localhost:3000', origin: 'http://localhost:5173' }, config), undefined);
  assert.equal(originProblem({ host: 'localhost:3000', origin: 'https://app.example.org' }, config), undefined);
  assert.match(originProblem({ host: 'localhost', origin: 'https://evil.example' }, config) ?? '', /Origin/);
  assert.match(originProblem({ host: 'localhost', origin: 'null' }, config) ?? '', /Origin "null"/);
});

test('settings: loopback and the public URL’s host by default; a host with a port is refused naming the key', () => {
  const defaults = loadMcpServerConfig({}, 'https://agents.example.com:8443');
  assert.deepEqual(defaults.allowedHosts, ['localhost', '127.0.0.1', '[::1]', 'agents.example.com']);
  assert.deepEqual(defaults.allowedOrigins, []);
  const custom = loadMcpServerConfig({
    MCP_ALLOWED_HOSTS: 'Mcp.Example.com, 10.0.0.5',
    MCP_ALLOWED_ORIGINS: 'https://a.b/x',
  });
  assert.ok(custom.allowedHosts.includes('mcp.example.com') && custom.allowedHosts.includes('10.0.0.5'));
  assert.deepEqual(custom.allowedOrigins, ['https://a.b']);
  assert.throws(
    () => loadMcpServerConfig({ MCP_ALLOWED_HOSTS: 'mcp.example.com:443' }),
    (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.key.startsWith('MCP_ALLOWED_HOSTS')),
  );
  assert.throws(
    () => loadMcpServerConfig({ MCP_MAX_SESSIONS: '0' }),
    (err: unknown) => err instanceof ConfigError && err.problems[0]?.key === 'MCP_MAX_SESSIONS',
  );
});

test('only /mcp itself is the endpoint; a body it cannot parse is a JSON-RPC parse error', () => {
  assert.ok(isMcpEndpoint('/mcp') && isMcpEndpoint('/mcp/') && isMcpEndpoint('/MCP'));
  assert.ok(!isMcpEndpoint('/mcp/servers') && !isMcpEndpoint('/mcpx'));
  assert.deepEqual(jsonRpcBodyError(400, 'bad JSON'), {
    jsonrpc: '2.0',
    error: { code: -32700, message: 'Parse error: bad JSON' },
    id: null,
  });
});

function runIn(status: RunDetail['status'], pending: string[] = []): RunDetail {
  return {
    workflowId: 'w',
    runId: 'r',
    spec: 's',
    status,
    startTime: null,
    closeTime: null,
    webUiUrl: '',
    specVersion: 1,
    historyLength: 1,
    progress: {
      current: [],
      steps: Object.fromEntries(pending.map((id) => [id, { id, kind: 'approval', status: 'waiting', startedAt: '' }])),
      pendingApprovals: pending.map((stepId) => ({ stepId, prompt: `Decide ${stepId}?` })),
    },
  } as RunDetail;
}

test('wait_for_run: progress while the state changes, none at the end, a timeout, and a stop on abort', async () => {
  const states = [runIn('running', ['a']), runIn('running', ['a']), runIn('running', ['b']), runIn('completed')];
  let reads = 0;
  const lines: Array<[number, string]> = [];
  const done = await waitForRun(async () => states[Math.min(reads++, states.length - 1)] as RunDetail, 'w', {
    timeoutMs: 60_000,
    pollMs: 1,
    signal: new AbortController().signal,
    progress: async (n, line) => void lines.push([n, line]),
  });
  assert.equal(done.finished, true);
  assert.deepEqual(
    lines.map(([n]) => n),
    [1, 2],
    'one line per change; the end is the result',
  );
  assert.match(lines[0]?.[1] ?? '', /waiting for approval: a \("Decide a\?"\)/);

  const timedOut = await waitForRun(async () => runIn('running'), 'w', {
    timeoutMs: 20,
    pollMs: 5,
    signal: new AbortController().signal,
  });
  assert.deepEqual([timedOut.finished, timedOut.timedOut], [false, true]);

  const abort = new AbortController();
  let readsBeforeAbort = 0;
  const waiting = waitForRun(
    async () => {
      readsBeforeAbort++;
      return runIn('running');
    },
    'w',
    { timeoutMs: 60_000, pollMs: 10, signal: abort.signal },
  );
  setTimeout(() => abort.abort(new Error('client cancelled')), 30);
  await assert.rejects(waiting, { name: 'AbortError' });
  const readsAtAbort = readsBeforeAbort;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(readsBeforeAbort, readsAtAbort, 'no read after the abort');
});

test(
  'wait_for_run answers when the execution closes, not at its next read; a run that continued is watched again',
  { timeout: 20_000 },
  async () => {
    // Reads 60 s apart: only the close watch can end this wait within the test's timeout.
    const states = [runIn('running'), runIn('completed')];
    let reads = 0;
    let watches = 0;
    const done = await waitForRun(async () => states[Math.min(reads++, states.length - 1)] as RunDetail, 'w', {
      timeoutMs: 120_000,
      pollMs: 60_000,
      signal: new AbortController().signal,
      closed: async () => {
        watches++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
    });
    assert.deepEqual([done.finished, reads, watches], [true, 2, 1]);

    // The first execution closes but the run goes on (continued as new): one plain pause, then a new watch.
    const chain = [runIn('running'), runIn('running'), runIn('running'), runIn('completed')];
    reads = 0;
    watches = 0;
    const continued = await waitForRun(async () => chain[Math.min(reads++, chain.length - 1)] as RunDetail, 'w', {
      timeoutMs: 120_000,
      pollMs: 30,
      signal: new AbortController().signal,
      closed: async () => {
        watches++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    assert.equal(continued.finished, true);
    assert.ok(watches >= 2, `watched again after the first close (${watches} watches)`);

    // A watch that fails leaves the reads to find the end.
    reads = 0;
    const failing = await waitForRun(async () => states[Math.min(reads++, states.length - 1)] as RunDetail, 'w', {
      timeoutMs: 120_000,
      pollMs: 10,
      signal: new AbortController().signal,
      closed: () => Promise.reject(new Error('Temporal is down')),
    });
    assert.equal(failing.finished, true);
  },
);
