import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { WaitOptions } from './abortable';
import { EMPTY_MCP_CONFIG, type McpConfig } from './config/types';
import { DEFAULT_CONNECT_BACKOFF, type BackoffOptions } from './connect-backoff';
import { McpPoolClosedError, McpUnknownServerError } from './errors';
import { ServerConnection, type CallOptions, type ConnectionEvent, type ServerStatus } from './server-connection';
import type { TransportFactory } from './transport';

export const DEFAULT_TOOL_CACHE_TTL_MS = 5 * 60_000;
export const DEFAULT_MAX_CONCURRENCY_PER_SERVER = 16;
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

export interface McpPoolOptions {
  /** How long a server's `tools/list` is trusted (default 5 min); `list_changed` refreshes it sooner. */
  toolCacheTtlMs?: number;
  /** Requests in flight per server connection unless the server's config says otherwise (default 16). */
  maxConcurrencyPerServer?: number;
  clientInfo?: { name: string; version: string };
  /** Longest connect (spawn + initialize) however long a caller would wait (default 30 s). */
  connectTimeoutMs?: number;
  /** Waits between connects after repeated failures, shared by every caller of a server. */
  connectBackoff?: Partial<BackoffOptions>;
  /** Replaces how transports are opened (in-memory servers in unit tests). */
  transportFactory?: TransportFactory;
  now?: () => number;
  onEvent?: (event: PoolEvent) => void;
}

export type PoolEvent =
  | ConnectionEvent
  | { type: 'call-start'; server: string; tool: string; at: number }
  | { type: 'call-end'; server: string; tool: string; at: number; ok: boolean };

export interface ServerInventory {
  name: string;
  transport: 'stdio' | 'http' | 'sse';
  /** How the live session was made (Streamable HTTP may have fallen back to SSE). */
  connectedVia?: string;
  status: ServerStatus;
  /** Tools in the cached list, or null when the list was never fetched. */
  toolCount: number | null;
  catalogueAgeMs: number | null;
  connects: number;
  pid?: number;
  inFlight: number;
  queued: number;
  lastError?: string;
  source: string;
}

/**
 * The MCP client pool of one worker process: one connection per configured server, shared
 * by every activity, step and run; connected lazily and kept until `close()`.
 */
export class McpClientPool {
  private readonly connections = new Map<string, ServerConnection>();
  private closed = false;
  private readonly now: () => number;

  constructor(
    readonly config: McpConfig = EMPTY_MCP_CONFIG,
    private readonly options: McpPoolOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    for (const server of Object.values(config.servers)) {
      this.connections.set(
        server.name,
        new ServerConnection(server, {
          toolCacheTtlMs: options.toolCacheTtlMs ?? DEFAULT_TOOL_CACHE_TTL_MS,
          maxConcurrency: options.maxConcurrencyPerServer ?? DEFAULT_MAX_CONCURRENCY_PER_SERVER,
          clientInfo: options.clientInfo ?? { name: 'durable-agents-orchestrator', version: '0.1.0' },
          transportFactory: options.transportFactory,
          now: this.now,
          onEvent: options.onEvent,
          connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
          backoff: { ...DEFAULT_CONNECT_BACKOFF, ...options.connectBackoff },
        }),
      );
    }
  }

  get serverNames(): string[] {
    return [...this.connections.keys()];
  }

  connection(server: string): ServerConnection {
    if (this.closed) throw new McpPoolClosedError();
    const conn = this.connections.get(server);
    if (!conn) throw new McpUnknownServerError(server, this.serverNames, this.config.disabled.includes(server));
    return conn;
  }

  listTools(server: string, fresh = false, o: WaitOptions = {}): Promise<Tool[]> {
    return this.connection(server).listTools(fresh, o);
  }

  async callTool(
    server: string,
    tool: string,
    args: Record<string, unknown>,
    opts: CallOptions = {},
  ): Promise<CallToolResult> {
    const conn = this.connection(server);
    this.options.onEvent?.({ type: 'call-start', server, tool, at: this.now() });
    let ok = false;
    try {
      const result = await conn.callTool(tool, args, opts);
      ok = !result.isError;
      return result;
    } finally {
      this.options.onEvent?.({ type: 'call-end', server, tool, at: this.now(), ok });
    }
  }

  inventory(): ServerInventory[] {
    return [...this.connections.values()].map((c) => {
      const cached = c.catalogue.peek();
      return {
        name: c.config.name,
        transport: c.config.transport,
        connectedVia: c.via,
        status: c.status,
        toolCount: cached ? cached.tools.length : null,
        catalogueAgeMs: cached ? this.now() - cached.fetchedAt : null,
        connects: c.connects,
        pid: c.pid,
        inFlight: c.inFlight,
        queued: c.queued,
        lastError: c.lastError,
        source: c.config.source,
      };
    });
  }

  /**
   * Closes every session (stdio servers get their stdin closed, then SIGTERM, then SIGKILL, to
   * their whole process group) and abandons connects in progress. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.connections.values()].map((c) => c.close()));
  }
}
