import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { HttpServerConfig, McpServerConfig } from './config/types';
import { McpConnectError } from './errors';
import { StderrTail } from './stderr-tail';

export interface Session {
  client: Client;
  transport: Transport;
  /** Process id of a stdio server. */
  pid?: number;
  /** How the connection was made in the end: stdio, http (Streamable HTTP) or sse. */
  via: 'stdio' | 'http' | 'sse' | 'custom';
  /** The last lines a stdio server wrote to stderr, to explain why it went away. */
  stderr?: StderrTail;
}

/** Opens a transport for a server; tests replace it with an in-memory pair. */
export type TransportFactory = (server: McpServerConfig) => Transport | Promise<Transport>;

/** An old server answers a Streamable HTTP POST with 4xx (404/405 mostly): then it speaks SSE. */
function isLegacyServerAnswer(err: unknown): boolean {
  return err instanceof StreamableHTTPError && err.code !== undefined && err.code >= 400 && err.code < 500;
}

async function connectHttp(server: HttpServerConfig, newClient: () => Client): Promise<Session> {
  const url = new URL(server.url);
  const requestInit = { headers: server.headers };
  if (server.transport === 'http') {
    const client = newClient();
    const transport = new StreamableHTTPClientTransport(url, { requestInit });
    try {
      await client.connect(transport);
      return { client, transport, via: 'http' };
    } catch (err) {
      if (!isLegacyServerAnswer(err)) throw err;
      await client.close().catch(() => undefined);
    }
  }
  const client = newClient();
  const transport = new SSEClientTransport(url, { requestInit });
  await client.connect(transport);
  return { client, transport, via: 'sse' };
}

/** Connects a fresh client to `server`; failures become McpConnectError (with a stdio server's stderr). */
export async function openSession(
  server: McpServerConfig,
  newClient: () => Client,
  factory?: TransportFactory,
): Promise<Session> {
  if (factory) {
    const client = newClient();
    const transport = await factory(server);
    try {
      await client.connect(transport);
    } catch (err) {
      throw new McpConnectError(server.name, err);
    }
    return { client, transport, via: 'custom' };
  }
  if (server.transport !== 'stdio') {
    try {
      return await connectHttp(server, newClient);
    } catch (err) {
      throw new McpConnectError(server.name, err);
    }
  }
  const stderr = new StderrTail();
  const transport = new StdioClientTransport({
    command: server.command,
    args: server.args,
    env: { ...server.env },
    cwd: server.cwd,
    stderr: 'pipe',
  });
  stderr.attach(transport.stderr);
  const client = newClient();
  try {
    await client.connect(transport);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new McpConnectError(server.name, err, stderr.text() && `server stderr:\n${stderr.text()}`);
  }
  return { client, transport, pid: transport.pid ?? undefined, via: 'stdio', stderr };
}
