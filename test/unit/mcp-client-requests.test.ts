/**
 * What a server may ask the pool's client: the config keys (validated, resolved), the capabilities
 * a connection declares from them, how a request finds the tool call it belongs to, and the check
 * of an elicitation answer, and the inbox page's view of an input. The server is the SDK's McpServer over an in-memory pair; the run side
 * (updates, approvals) is tested in test/integration/mcp-elicitation.test.ts and mcp-sampling.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { samplingMessages } from '../../activities/mcp/client-requests/ask-run';
import { inboxPage } from '../../api/approvals/page/inbox-page';
import { contentProblems } from '../../activities/mcp/client-requests/content-check';
import { loadMcpConfig } from '../../activities/mcp/config/load';
import type { McpServerConfig } from '../../activities/mcp/config/types';
import { McpClientPool } from '../../activities/mcp/pool';
import { ConfigError } from '../../config/config-errors';
import { inMemoryServer } from '../fixtures/mcp/in-memory-server';

function configDir(servers: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-client-requests-'));
  writeFileSync(path.join(dir, '.mcp.json'), JSON.stringify({ mcpServers: servers }));
  return dir;
}

test('the config keys resolve: durations, defaults, roots as file URIs', () => {
  const dir = configDir({
    asks: {
      command: 'x',
      cwd: './srv',
      elicitation: { allowed: true, approvers: ['group:ops'], timeout: '90s' },
      sampling: { allowed: true, approve: true },
      roots: true,
    },
    lists: { url: 'http://127.0.0.1:9/mcp', roots: ['./data', '${WORKSPACE}/docs'] },
    off: { command: 'x', elicitation: { allowed: false }, sampling: { allowed: false } },
  });
  const { servers } = loadMcpConfig({ location: dir, required: true }, {});
  assert.deepEqual(servers.asks?.clientRequests, {
    elicitation: { approvers: ['group:ops'], timeoutMs: 90_000 },
    sampling: { model: 'default', maxTokens: 1024, approve: { timeoutMs: 600_000 } },
    roots: [{ uri: pathToFileURL(path.join(dir, 'srv')).href, name: 'srv' }],
  });
  assert.deepEqual(servers.lists?.clientRequests, {
    roots: [
      { uri: pathToFileURL(path.join(dir, 'data')).href, name: 'data' },
      { uri: pathToFileURL(path.join(dir, 'docs')).href, name: 'docs' },
    ],
  });
  assert.equal(servers.off?.clientRequests, undefined, 'not allowed: nothing offered');
});

test('bad keys stop the worker, naming the key', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ allowed: 'yes' }, 'mcpServers.s.elicitation.allowed', /boolean/],
    [{ allowed: true, timeout: 'soon' }, 'mcpServers.s.elicitation.timeout', /invalid duration/],
    [{ allowed: true, approver: [] }, 'mcpServers.s.elicitation.approver', /unknown field/],
  ];
  for (const [elicitation, key, message] of cases) {
    const dir = configDir({ s: { command: 'x', elicitation } });
    assert.throws(
      () => loadMcpConfig({ location: dir, required: true }, {}),
      (err: unknown) =>
        err instanceof ConfigError && err.problems.some((p) => p.key === key && message.test(p.message)),
    );
  }
  const dir = configDir({ s: { command: 'x', sampling: { allowed: true, maxTokens: 0 } } });
  assert.throws(
    () => loadMcpConfig({ location: dir, required: true }, {}),
    (err: unknown) =>
      err instanceof ConfigError && err.problems.some((p) => p.key === 'mcpServers.s.sampling.maxTokens'),
  );
});

const server = (clientRequests?: McpServerConfig['clientRequests'], maxConcurrency?: number): McpServerConfig => ({
  name: 'asker',
  transport: 'stdio',
  command: 'unused',
  args: [],
  env: {},
  cwd: '/',
  source: 'test',
  ...(clientRequests && { clientRequests }),
  ...(maxConcurrency && { maxConcurrency }),
});

/** A server whose `ask` tool elicits and whose `caps` tool reports the client's capabilities. */
function askingServer() {
  return inMemoryServer((s) => {
    s.registerTool('ask', { inputSchema: { hold: z.number().optional() } }, async ({ hold }) => {
      if (hold) await new Promise((r) => setTimeout(r, hold));
      try {
        const answer = await s.server.elicitInput({
          message: 'name?',
          requestedSchema: { type: 'object', properties: { name: { type: 'string' } } },
        });
        return { content: [{ type: 'text', text: JSON.stringify(answer) }] };
      } catch (err) {
        return { isError: true, content: [{ type: 'text', text: (err as Error).message }] };
      }
    });
    s.registerTool('caps', {}, async () => ({
      content: [{ type: 'text', text: JSON.stringify(s.server.getClientCapabilities() ?? {}) }],
    }));
  });
}

const pool = (config: McpServerConfig, factory: ReturnType<typeof askingServer>['factory']) =>
  new McpClientPool({ servers: { asker: config }, disabled: [], files: [] }, { transportFactory: factory });
const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;

test('capabilities come from the config: none by default, elicitation/sampling/roots where allowed', async () => {
  const plain = pool(server(), askingServer().factory);
  const full = pool(
    server({
      elicitation: { timeoutMs: 1000 },
      sampling: { model: 'default', maxTokens: 10 },
      roots: [{ uri: 'file:///w', name: 'w' }],
    }),
    askingServer().factory,
  );
  try {
    assert.deepEqual(JSON.parse(text(await plain.callTool('asker', 'caps', {}))), {});
    assert.deepEqual(JSON.parse(text(await full.callTool('asker', 'caps', {}))), {
      elicitation: { form: { applyDefaults: true } },
      sampling: {},
      roots: { listChanged: false },
    });
  } finally {
    await plain.close();
    await full.close();
  }
});

test("a request goes to the one call in flight; that call's handler answers it", async () => {
  const p = pool(server({ elicitation: { timeoutMs: 1000 } }), askingServer().factory);
  try {
    const answered = await p.callTool(
      'asker',
      'ask',
      {},
      {
        clientRequests: { elicit: async (params) => ({ action: 'accept', content: { name: params.message } }) },
      },
    );
    assert.deepEqual(JSON.parse(text(answered)), { action: 'accept', content: { name: 'name?' } });
    const unanswerable = await p.callTool('asker', 'ask', {});
    assert.equal(unanswerable.isError, true);
    assert.match(text(unanswerable), /this call takes no input/);
  } finally {
    await p.close();
  }
});

test('with several calls in flight a request is refused rather than guessed', async () => {
  const elicit = async () => ({ action: 'decline' as const });
  const p = pool(server({ elicitation: { timeoutMs: 1000 } }, 2), askingServer().factory);
  try {
    const [a, b] = await Promise.all([
      p.callTool('asker', 'ask', { hold: 50 }, { clientRequests: { elicit } }),
      p.callTool('asker', 'ask', { hold: 50 }, { clientRequests: { elicit } }),
    ]);
    // The first to ask meets both calls in flight; the other may ask once the first has ended.
    const refused = [a, b].filter((r) => r.isError);
    assert.ok(refused.length >= 1, 'a request met two calls in flight');
    for (const r of refused) assert.match(text(r), /2 tool calls are in progress .*"maxConcurrency": 1/);
  } finally {
    await p.close();
  }
  // Without maxConcurrency a server that may ask runs its calls one at a time: both are answered.
  const serial = pool(server({ elicitation: { timeoutMs: 1000 } }), askingServer().factory);
  try {
    const both = await Promise.all([
      serial.callTool('asker', 'ask', { hold: 50 }, { clientRequests: { elicit } }),
      serial.callTool('asker', 'ask', { hold: 50 }, { clientRequests: { elicit } }),
    ]);
    assert.deepEqual(
      both.map((r) => JSON.parse(text(r))),
      [{ action: 'decline' }, { action: 'decline' }],
    );
  } finally {
    await serial.close();
  }
});

test('answers are checked against the requested schema, naming the field', () => {
  const schema = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      seats: { type: 'integer', maximum: 4 },
      email: { type: 'string', format: 'email' },
    },
    required: ['name'],
  };
  assert.deepEqual(contentProblems(schema, { name: 'a', seats: 2, email: 'a@b.co' }), []);
  assert.deepEqual(contentProblems(schema, { seats: 5, email: 'x' }), [
    "content.name: must have required property 'name'",
    'content.seats: must be <= 4',
    'content.email: must match format "email"',
  ]);
});

test('sampling messages: the system prompt first, text only', () => {
  assert.deepEqual(
    samplingMessages({
      systemPrompt: 'be brief',
      maxTokens: 5,
      messages: [
        { role: 'user', content: { type: 'text', text: 'hi' } },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
      ],
    }),
    [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'a\nb' },
    ],
  );
  assert.throws(
    () =>
      samplingMessages({
        maxTokens: 5,
        messages: [{ role: 'user', content: { type: 'image', data: 'AA==', mimeType: 'image/png' } }],
      }),
    /messages\[0\]: only text content can be sampled \(got image\)/,
  );
});

test('the inbox page shows an input with its schema and how to answer it, without approve/reject buttons', () => {
  const item = {
    workflowId: 'w',
    runId: 'r',
    spec: 's',
    prompt: 'The MCP server "asking" asks: <seats?>',
    approvers: [],
    requestedAt: 't',
    timeoutAt: null,
    onTimeout: 'reject' as const,
    escalatedAt: null,
    choices: ['cancel'],
    mayDecide: true,
    links: { run: 'http://a/w', webUi: 'http://ui/w', decide: 'http://a/workflows/w/approvals/book~input-1' },
  };
  const out = inboxPage({
    identity: { user: 'ana', groups: [], roles: ['approver'] },
    approvals: [
      {
        ...item,
        stepId: 'book~input-1',
        kind: 'input',
        server: 'asking',
        requestedSchema: { type: 'object', properties: { seats: { type: 'integer' } } },
      },
      { ...item, stepId: 'gate', choices: [] },
    ],
    csrf: 'c',
    more: false,
  });
  const [input, approval] = out.split('<article').slice(1) as [string, string];
  assert.match(
    input,
    /Input for the MCP server asking: answer with POST http:\/\/a\/workflows\/w\/approvals\/book~input-1/,
  );
  assert.match(input, /&quot;seats&quot;/);
  assert.ok(!input.includes('value="approve"'), 'no approve button for an input');
  assert.ok(approval.includes('value="approve"'), 'an approval keeps its buttons');
});
