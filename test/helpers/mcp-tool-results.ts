/** Tool calls and resource reads of an MCP SDK client, as the orchestrator's MCP server tests check them. */
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult, ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';

export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** The structured output of a call that must succeed. */
export async function ok<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<T> {
  const result = await callTool(client, name, args);
  assert.notEqual(result.isError, true, `${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

/** The message of a call that must be refused as a tool error. */
export async function refused(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await callTool(client, name, args);
  assert.equal(result.isError, true, `${name} should have been refused: ${JSON.stringify(result)}`);
  const [first] = result.content;
  assert.equal(first?.type, 'text');
  return (first as { text: string }).text;
}

/** The JSON of a text resource. */
export function resourceJson<T = Record<string, unknown>>(result: ReadResourceResult): T {
  const [first] = result.contents;
  assert.ok(first && 'text' in first, 'a text resource');
  return JSON.parse(first.text) as T;
}
