import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolResultSchema,
  McpError,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from './config/types';
import { McpPoolClosedError, McpUnknownToolError } from './errors';
import { Semaphore } from './semaphore';
import { ToolCatalogueCache } from './tool-catalogue';
import { openSession, type Session, type TransportFactory } from './transport';

export type ServerStatus = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export interface ServerConnectionOptions {
  toolCacheTtlMs: number;
  maxConcurrency: number;
  clientInfo: { name: string; version: string };
  transportFactory?: TransportFactory;
  now: () => number;
  onEvent?: (event: ConnectionEvent) => void;
}

export type ConnectionEvent =
  | { type: 'connected'; server: string; pid?: number; via: Session['via'] }
  | { type: 'disconnected'; server: string; pid?: number }
  | { type: 'tools-changed'; server: string };

export interface CallOptions {
  signal?: AbortSignal;
  /** Request timeout; progress notifications reset it. */
  timeoutMs?: number;
  onProgress?: RequestOptions['onprogress'];
}

/**
 * One MCP server as the pool sees it: a single session shared by every caller, opened on
 * first use and opened again after the server went away (a crashed stdio process is
 * restarted this way), with a bound on the requests in flight.
 */
export class ServerConnection {
  private session?: Session;
  private connecting?: Promise<Session>;
  private closed = false;
  status: ServerStatus = 'idle';
  lastError?: string;
  /** Sessions opened so far (1 + restarts). */
  connects = 0;
  readonly catalogue: ToolCatalogueCache;
  private readonly slots: Semaphore;

  constructor(
    readonly config: McpServerConfig,
    private readonly options: ServerConnectionOptions,
  ) {
    this.slots = new Semaphore(config.maxConcurrency ?? options.maxConcurrency);
    this.catalogue = new ToolCatalogueCache(options.toolCacheTtlMs, () => this.fetchTools(), options.now);
  }

  get pid(): number | undefined {
    return this.session?.pid;
  }

  get via(): Session['via'] | undefined {
    return this.session?.via;
  }

  get inFlight(): number {
    return this.slots.inFlight;
  }

  get queued(): number {
    return this.slots.queued;
  }

  /** The live session, opening one if there is none; concurrent callers share one attempt. */
  async open(): Promise<Session> {
    if (this.closed) throw new McpPoolClosedError();
    if (this.session) return this.session;
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<Session> {
    this.status = 'connecting';
    try {
      const session = await openSession(this.config, () => this.newClient(), this.options.transportFactory);
      if (this.closed) {
        await session.client.close().catch(() => undefined);
        throw new McpPoolClosedError();
      }
      this.connects++;
      this.session = session;
      this.status = 'connected';
      this.lastError = undefined;
      session.client.onclose = () => this.dropped(session);
      this.options.onEvent?.({ type: 'connected', server: this.config.name, pid: session.pid, via: session.via });
      return session;
    } catch (err) {
      if (!this.closed) {
        this.status = 'failed';
        this.lastError = err instanceof Error ? err.message : String(err);
      }
      throw err;
    }
  }

  private newClient(): Client {
    const client = new Client(this.options.clientInfo, { capabilities: {} });
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      this.catalogue.invalidate();
      this.options.onEvent?.({ type: 'tools-changed', server: this.config.name });
      // Refresh at once so the next caller does not pay for it; a failure shows in lastError.
      this.catalogue.refresh().catch((err: unknown) => (this.lastError = (err as Error).message));
    });
    return client;
  }

  private dropped(session: Session): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.catalogue.invalidate();
    if (!this.closed) {
      this.status = 'disconnected';
      const tail = session.stderr?.text();
      if (session.via === 'stdio')
        this.lastError = `the server process exited${tail ? `; its last stderr:\n${tail}` : ''}`;
    }
    this.options.onEvent?.({ type: 'disconnected', server: this.config.name, pid: session.pid });
  }

  /**
   * Runs a request on the live session. Over HTTP, a failure below JSON-RPC (a 404 for an expired
   * session, a refused connection) drops the session so the next use opens a new one; a stdio
   * session ends only with its process.
   */
  private async request<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const session = await this.open();
    try {
      return await fn(session.client);
    } catch (err) {
      if (
        session.via !== 'stdio' &&
        !(err instanceof McpError) &&
        !(err instanceof Error && err.name === 'AbortError')
      ) {
        this.dropped(session);
        await session.client.close().catch(() => undefined);
      }
      throw err;
    }
  }

  private async fetchTools(): Promise<Tool[]> {
    return this.request(async (client) => {
      const tools: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined);
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
      return tools;
    });
  }

  /** The cached list while it is fresh; `fresh` asks the server now whatever the cache holds. */
  async listTools(fresh = false): Promise<Tool[]> {
    return (await (fresh ? this.catalogue.refresh() : this.catalogue.get())).tools;
  }

  async findTool(name: string): Promise<Tool> {
    const tools = await this.listTools();
    const tool = tools.find((t) => t.name === name);
    if (tool) return tool;
    throw new McpUnknownToolError(
      this.config.name,
      name,
      tools.map((t) => t.name),
    );
  }

  async callTool(name: string, args: Record<string, unknown>, opts: CallOptions = {}): Promise<CallToolResult> {
    await this.findTool(name);
    const release = await this.slots.acquire(opts.signal);
    try {
      const result = await this.request((client) =>
        client.callTool({ name, arguments: args }, CallToolResultSchema, {
          signal: opts.signal,
          timeout: opts.timeoutMs,
          resetTimeoutOnProgress: true,
          onprogress: opts.onProgress,
        }),
      );
      return result as CallToolResult;
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.status = 'closed';
    const session = this.session ?? (await this.connecting?.catch(() => undefined));
    this.session = undefined;
    // Tell a Streamable HTTP server the session is over, so it can free it at once.
    if (session?.transport instanceof StreamableHTTPClientTransport) {
      await session.transport.terminateSession().catch(() => undefined);
    }
    await session?.client.close().catch(() => undefined);
  }
}
