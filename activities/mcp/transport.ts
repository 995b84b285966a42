import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { HttpServerConfig, McpServerConfig } from './config/types';
import { McpAuthError, McpConnectError, McpPoolClosedError } from './errors';
import { McpOAuthError } from './oauth/errors';
import { oauthFailure } from './oauth/failures';
import { StoredOAuthProvider } from './oauth/provider';
import { sharingRefreshes } from './oauth/shared-refresh';
import { completingHeadlessAuth } from './oauth/headless';
import { StderrTail } from './stderr-tail';
import { ProcessGroupStdioTransport } from './stdio-process';

export interface Session {
  client: Client;
  transport: Transport;
  /** Process id of a stdio server (also its process group id). */
  pid?: number;
  /** How the connection was made in the end: stdio, http (Streamable HTTP) or sse. */
  via: 'stdio' | 'http' | 'sse' | 'custom';
  /** The last lines a stdio server wrote to stderr, to explain why it went away. */
  stderr?: StderrTail;
}

/** Opens a transport for a server; tests replace it with an in-memory pair. */
export type TransportFactory = (server: McpServerConfig) => Transport | Promise<Transport>;

/** What a connect attempt saw of a stdio server, to explain a failure or a timeout. */
export class ConnectProbe {
  stderr?: StderrTail;
  transport?: ProcessGroupStdioTransport;

  /** The server's last stderr lines and the first line of stdout that was not JSON-RPC. */
  detail(): string | undefined {
    const parts: string[] = [];
    const noise = this.transport?.noise;
    if (noise) parts.push(`the server wrote this on stdout, which is not JSON-RPC: ${noise}`);
    const tail = this.stderr?.text();
    if (tail) parts.push(`server stderr:\n${tail}`);
    return parts.length ? parts.join('\n') : undefined;
  }
}

export interface OpenOptions {
  factory?: TransportFactory;
  /** Aborts the attempt: the pending initialize is dropped and a stdio server's group killed. */
  signal: AbortSignal;
  /** How long `initialize` may take. */
  timeoutMs: number;
  probe: ConnectProbe;
}

/** An old server answers a Streamable HTTP POST with 4xx (404/405 mostly): then it speaks SSE. */
function isLegacyServerAnswer(err: unknown): boolean {
  return err instanceof StreamableHTTPError && err.code !== undefined && err.code >= 400 && err.code < 500;
}

/** A 401/403 is about credentials on any transport; never a reason to try SSE. */
export function authStatus(err: unknown): number | undefined {
  if ((err instanceof StreamableHTTPError || err instanceof SseError) && (err.code === 401 || err.code === 403))
    return err.code;
  return undefined;
}

/** Connects `client` over an HTTP transport; a 401/403 or a refused OAuth client becomes McpAuthError. */
async function connectOver(
  server: HttpServerConfig,
  client: Client,
  transport: Transport,
  init: RequestOptions,
  oauth: StoredOAuthProvider | undefined,
) {
  try {
    await client.connect(transport, init);
  } catch (err) {
    await client.close().catch(() => undefined);
    const status = authStatus(err);
    if (status !== undefined && oauth)
      throw new McpOAuthError(
        server.name,
        server.url,
        `MCP server "${server.name}" refused the OAuth access token (HTTP ${status} from ${server.url}) after a fresh one was obtained`,
      );
    if (status !== undefined) throw new McpAuthError(server.name, status, server.url);
    throw (oauth && oauthFailure(oauth.server, err)) || err;
  }
}

async function connectHttp(server: HttpServerConfig, newClient: () => Client, init: RequestOptions): Promise<Session> {
  const url = new URL(server.url);
  const requestInit = { headers: server.headers };
  // With OAuth the SDK gets, refreshes or (headless) authorizes for a token whenever the server answers 401.
  const oauth = server.auth
    ? new StoredOAuthProvider({ name: server.name, url: server.url, auth: server.auth })
    : undefined;
  if (oauth?.loginRequired()) throw oauth.loginRequiredError('no stored tokens');
  const options = { requestInit, ...(oauth ? { authProvider: oauth, fetch: sharingRefreshes() } : {}) };
  const authorized = <T extends StreamableHTTPClientTransport | SSEClientTransport>(t: T): T =>
    oauth && server.auth?.headless ? completingHeadlessAuth(t, oauth) : t;
  if (server.transport === 'http') {
    const client = newClient();
    const transport = authorized(new StreamableHTTPClientTransport(url, options));
    try {
      await connectOver(server, client, transport, init, oauth);
      return { client, transport, via: 'http' };
    } catch (err) {
      if (!isLegacyServerAnswer(err)) throw err;
    }
  }
  const client = newClient();
  const transport = authorized(new SSEClientTransport(url, options));
  await connectOver(server, client, transport, init, oauth);
  return { client, transport, via: 'sse' };
}

/** Why an attempt failed: the abort's own reason when it was given up (timeout, pool closed). */
function connectFailure(server: string, o: OpenOptions, err: unknown, detail?: string): Error {
  const reason: unknown = o.signal.aborted ? o.signal.reason : undefined;
  if (reason instanceof McpConnectError || reason instanceof McpPoolClosedError) return reason;
  return new McpConnectError(server, reason ?? err, detail);
}

/**
 * Connects a fresh client to `server` within `timeoutMs` unless `signal` aborts first; failures
 * become McpConnectError (with a stdio server's stderr) or McpAuthError, and a stdio server
 * that did not connect is killed with its process group before this returns.
 */
export async function openSession(server: McpServerConfig, newClient: () => Client, o: OpenOptions): Promise<Session> {
  const init: RequestOptions = { signal: o.signal, timeout: o.timeoutMs };
  if (o.factory) {
    const client = newClient();
    const transport = await o.factory(server);
    try {
      await client.connect(transport, init);
    } catch (err) {
      await client.close().catch(() => undefined);
      throw connectFailure(server.name, o, err);
    }
    return { client, transport, via: 'custom' };
  }
  if (server.transport !== 'stdio') {
    try {
      return await connectHttp(server, newClient, init);
    } catch (err) {
      if (err instanceof McpAuthError) throw err;
      throw connectFailure(server.name, o, err);
    }
  }
  const stderr = new StderrTail();
  const transport = new ProcessGroupStdioTransport({
    command: server.command,
    args: server.args,
    env: { ...server.env },
    cwd: server.cwd,
  });
  o.probe.stderr = stderr;
  o.probe.transport = transport;
  stderr.attach(transport.stderr);
  const client = newClient();
  try {
    await client.connect(transport, init);
  } catch (err) {
    await transport.kill();
    await client.close().catch(() => undefined);
    throw connectFailure(server.name, o, err, o.probe.detail());
  }
  return { client, transport, pid: transport.pid, via: 'stdio', stderr };
}
