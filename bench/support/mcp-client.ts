/**
 * A session with the API's MCP server (/mcp) as an MCP client holds one: the SDK's own Client
 * over Streamable HTTP with a bearer token. Opening it is initialize + initialized (the SDK then
 * opens its GET stream in the background); closing it sends DELETE, then drops the client.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export interface McpSession {
  sessionId: string;
  /** A tool's structured output; a tool error (isError) is thrown with its text. */
  call<T>(name: string, args: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** DELETE /mcp for this session, then the client is closed. */
  close(): Promise<void>;
  /** Protocol errors the client saw outside a request (e.g. its GET stream failing) before close(). */
  errors: Error[];
}

export async function openMcpSession(baseUrl: string, headers: Record<string, string>): Promise<McpSession> {
  const client = new Client({ name: 'bench-mcp-server', version: '1.0.0' });
  const errors: Error[] = [];
  let closing = false;
  // Closing aborts the client's own GET stream, which it reports as an error: not the server's.
  client.onerror = (err) => void (closing || errors.push(err));
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers } });
  await client.connect(transport);
  const sessionId = transport.sessionId;
  if (sessionId === undefined) throw new Error('initialize answered without an Mcp-Session-Id');
  return {
    sessionId,
    errors,
    async call<T>(name: string, args: Record<string, unknown>, timeoutMs?: number): Promise<T> {
      const result = (await client.callTool(
        { name, arguments: args },
        undefined,
        timeoutMs === undefined ? undefined : { timeout: timeoutMs },
      )) as CallToolResult;
      if (result.isError) {
        const text = result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join(' ');
        throw new Error(`${name} failed: ${text}`);
      }
      return result.structuredContent as T;
    },
    async close() {
      closing = true;
      try {
        await transport.terminateSession();
      } finally {
        await client.close();
      }
    },
  };
}
