/**
 * The agent conversation kept in the blob store (activities/llm/conversation.ts): each turn's
 * activity gets a reference and the messages it adds, yet the model is sent the whole
 * conversation, in order, with the tools declared on the first turn. Every turn here runs on a
 * fresh set of activities with no memory cache, as after a worker restart or on another
 * worker, so the conversation is rebuilt from the files alone. The model is the stand-in server
 * (a local HTTP server speaking the OpenAI wire format) behind the real `llmChat`; the tool is a
 * real MCP server (the SDK's McpServer over an in-memory transport) behind the real pool.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { createLlmActivities } from '../../activities/llm/activities';
import { loadLlmConfig } from '../../activities/llm/config/load';
import { createConversationActivities } from '../../activities/llm/conversation';
import { createMcpActivities } from '../../activities/mcp/activities';
import { McpClientPool } from '../../activities/mcp/pool';
import type { LlmTurnRequest, LlmTurnResponse, StoredToolResult } from '../../workflows/contracts/llm';
import { inOrder, StandInModelServer, standInModels } from '../fixtures/llm/model-server';
import { inMemoryServer } from '../fixtures/mcp/in-memory-server';

const noop = () => undefined;
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
let server: StandInModelServer;
let pool: McpClientPool;
let dir: string;

before(async () => {
  server = await StandInModelServer.start();
  const mcp = inMemoryServer((s) => {
    s.registerTool('shout', { inputSchema: { text: z.string() } }, async ({ text }) => ({
      content: [{ type: 'text', text: `${text.toUpperCase()}!`.repeat(3) }],
    }));
  });
  pool = new McpClientPool(
    {
      servers: {
        mem: { name: 'mem', transport: 'stdio', command: 'unused', args: [], env: {}, cwd: '.', source: 'test' },
      },
      disabled: [],
      files: [],
    },
    { transportFactory: mcp.factory },
  );
  dir = mkdtempSync(path.join(tmpdir(), 'conversation-'));
});

after(async () => {
  await pool?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A worker just started: nothing in memory, only the files. */
function freshActivities() {
  const { config } = loadLlmConfig({
    LLM_MODELS_JSON: JSON.stringify(standInModels(server)),
    STANDIN_API_KEYS: 'k1',
  });
  const llm = createLlmActivities({ config });
  const mcp = createMcpActivities({ pool });
  return createConversationActivities({ dir, llmChat: llm.llmChat, mcpCallTool: mcp.mcpCallTool, cacheEntries: 0 });
}

const env = () =>
  new MockActivityEnvironment({ heartbeatTimeoutMs: 2000, startToCloseTimeoutMs: 30_000 }, { logger: quiet });

const turn = (request: LlmTurnRequest) => env().run(freshActivities().llmChatTurn, request) as Promise<LlmTurnResponse>;

const tools = [{ name: 'mem__shout', parameters: { type: 'object', properties: { text: { type: 'string' } } } }];

test('a stored conversation is rebuilt from the files alone: every message, in order, tools declared once', async () => {
  server.exchanges.length = 0;
  server.script = inOrder(
    { toolCalls: [{ name: 'mem__shout', arguments: { text: 'hi' } }] },
    { toolCalls: [{ name: 'mem__shout', arguments: { text: 'again' } }] },
    { text: 'final answer' },
  );

  const first = await turn({
    model: 'default',
    append: [
      { role: 'system', content: 'Be loud.' },
      { role: 'user', content: 'Shout twice.' },
    ],
    tools,
    toolChoice: 'auto',
  });
  assert.equal(first.toolCalls.length, 1);
  assert.ok(first.withReply, 'a reply that calls tools is stored with the conversation');
  const call = first.toolCalls[0]!;
  const result = (await env().run(freshActivities().agentCallTool, {
    server: 'mem',
    tool: 'shout',
    arguments: call.arguments ?? {},
    toolCallId: call.id,
    name: call.name,
    maxResultChars: 8,
  })) as StoredToolResult;
  assert.equal(result.chars, 8 + '\n[truncated: 1 more characters]'.length, 'cut at maxResultChars, with a note');

  const second = await turn({
    model: 'default',
    conversation: first.withReply,
    append: [result],
    toolChoice: 'auto',
  });
  // The closing turn: the second reply is dropped and the model is told to conclude.
  const third = await turn({
    model: 'default',
    conversation: second.conversation,
    append: [{ role: 'user', content: 'Conclude now.' }],
    toolChoice: 'none',
  });
  assert.equal(third.text, 'final answer');
  assert.equal(third.withReply, undefined);

  const [a, b, c] = server.exchanges;
  assert.equal(server.exchanges.length, 3);
  assert.deepEqual([a?.tools, b?.tools, c?.tools], [['mem__shout'], ['mem__shout'], ['mem__shout']]);
  assert.equal(c?.system, 'Be loud.');
  assert.deepEqual(c?.userTexts, ['Shout twice.', 'Conclude now.']);
  assert.deepEqual(
    c?.toolResults.map((r) => r.content),
    ['HI!HI!HI\n[truncated: 1 more characters]'],
  );
  const roles = (c?.body.messages as Array<{ role: string }>).map((m) => m.role);
  assert.deepEqual(roles, ['system', 'user', 'assistant', 'tool', 'user'], 'the dropped reply is not in it');
  assert.equal(c?.body.tool_choice, 'none');
});

test('content-addressed: the same turn stored twice (a retried activity) writes the same files, nothing new', async () => {
  server.script = () => ({ text: 'same' });
  const request: LlmTurnRequest = { model: 'default', append: [{ role: 'user', content: 'Say the same.' }] };
  const once = await turn(request);
  const files = readdirSync(dir).length;
  const twice = await turn(request);
  assert.deepEqual(twice.conversation, once.conversation);
  assert.equal(readdirSync(dir).length, files);
});

test('a missing conversation fails retryably, naming the blob and BLOB_STORE_DIR', async () => {
  const missing = { sha256: 'a'.repeat(64), bytes: 10 };
  await assert.rejects(
    turn({ model: 'default', conversation: missing, append: [] }),
    (err: Error & { type?: string; nonRetryable?: boolean }) => {
      assert.equal(err.type, 'BlobMissing');
      assert.equal(err.nonRetryable, false);
      assert.match(err.message, new RegExp(`conversation blob ${missing.sha256} .*BLOB_STORE_DIR`));
      return true;
    },
  );
});
