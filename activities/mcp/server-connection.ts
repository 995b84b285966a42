import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolResultSchema,
  ErrorCode,
  McpError,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { waitFor, type WaitOptions } from './abortable';
import type { McpServerConfig } from './config/types';
import { ConnectBackoff, type BackoffOptions } from './connect-backoff';
import { McpConnectBackoffError, McpConnectError, McpPoolClosedError, McpUnknownToolError } from './errors';
import { asksClient } from './client-requests/config';
import { clientCapabilities, installClientRequestHandlers } from './client-requests/capabilities';
import { CallRouter, type ClientRequestHandlers } from './client-requests/router';
import { Semaphore } from './semaphore';
import { ToolCatalogueCache } from './tool-catalogue';
import { ConnectProbe, openSession, type Session, type TransportFactory } from './transport';

export type ServerStatus = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export interface ServerConnectionOptions {
  toolCacheTtlMs: number;
  maxConcurrency: number;
  clientInfo: { name: string; version: string };
  transportFactory?: TransportFactory;
  now: () => number;
  onEvent?: (event: ConnectionEvent) => void;
  /** Longest connect (spawn + initialize) when no caller waits less. */
  connectTimeoutMs: number;
  backoff: BackoffOptions;
}

export type ConnectionEvent =
  | { type: 'connected'; server: string; pid?: number; via: Session['via'] }
  | { type: 'disconnected'; server: string; pid?: number }
  | { type: 'tools-changed'; server: string };

export interface CallOptions {
  signal?: AbortSignal;
  /** Request timeout; progress notifications reset it. */
  timeoutMs?: number;
  /** How long connecting and listing tools may take before the call (default: timeoutMs). */
  connectTimeoutMs?: number;
  onProgress?: RequestOptions['onprogress'];
  /** Answers what the server asks during this call (elicitation, sampling), where its config allows it. */
  clientRequests?: ClientRequestHandlers;
}

/** One connect in progress, shared by every caller that waits for it. */
interface ConnectAttempt {
  promise: Promise<Session>;
  controller: AbortController;
  probe: ConnectProbe;
  waiters: number;
  /** Every caller left; it is being torn down. */
  givenUp: boolean;
}

/** The caller's remaining time at each stage, measured from when it asked. */
function deadline(o: WaitOptions): () => WaitOptions {
  const until = o.timeoutMs === undefined ? undefined : Date.now() + o.timeoutMs;
  return () => ({ signal: o.signal, timeoutMs: until === undefined ? undefined : until - Date.now() });
}

/**
 * One MCP server as the pool sees it: a single session shared by every caller, opened on
 * first use and opened again after the server went away (a crashed stdio process is
 * restarted this way), with a bound on the requests in flight.
 */
export class ServerConnection {
  private session?: Session;
  private attempt?: ConnectAttempt;
  /** Given-up attempts still killing their server; close() waits for them. */
  private readonly dying = new Set<Promise<Session>>();
  private closed = false;
  status: ServerStatus = 'idle';
  lastError?: string;
  /** Sessions opened so far (1 + restarts). */
  connects = 0;
  readonly catalogue: ToolCatalogueCache;
  private readonly slots: Semaphore;
  private readonly backoff: ConnectBackoff;
  private readonly router = new CallRouter();

  constructor(
    readonly config: McpServerConfig,
    private readonly options: ServerConnectionOptions,
  ) {
    // A server that may ask the client something runs one call at a time: see CallRouter.
    const fallback = asksClient(config.clientRequests) ? 1 : options.maxConcurrency;
    this.slots = new Semaphore(config.maxConcurrency ?? fallback);
    this.backoff = new ConnectBackoff(options.backoff, options.now);
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

  /**
   * The live session, opening one if there is none. Concurrent callers share one attempt; each
   * waits no longer than its own signal and timeout allow, and when the last of them gives up
   * the attempt is abandoned (a stdio server is killed). After repeated failures no attempt
   * starts until the back-off has passed: callers get McpConnectBackoffError at once.
   */
  async open(o: WaitOptions = {}): Promise<Session> {
    if (this.closed) throw new McpPoolClosedError();
    if (this.session) return this.session;
    o.signal?.throwIfAborted();
    let attempt = this.attempt;
    if (!attempt) {
      const wait = this.backoff.remainingMs();
      if (wait > 0) throw new McpConnectBackoffError(this.config.name, this.backoff.failures, wait, this.lastError);
      attempt = this.attempt = this.startAttempt();
    }
    const current = attempt;
    current.waiters++;
    let timeout: McpConnectError | undefined;
    try {
      return await waitFor(current.promise, o, () => {
        timeout = new McpConnectError(
          this.config.name,
          `no answer to initialize within ${o.timeoutMs} ms (the caller's timeout)`,
          current.probe.detail(),
        );
        return timeout;
      });
    } finally {
      current.waiters--;
      if (current.waiters === 0 && this.attempt === current) this.giveUp(current, timeout);
    }
  }

  /**
   * Every caller left: the attempt is detached at once (the next caller starts afresh, or meets
   * the back-off) and aborted, which kills a stdio server; a timeout counts as a failure, a
   * cancellation does not.
   */
  private giveUp(attempt: ConnectAttempt, timeout: McpConnectError | undefined): void {
    this.attempt = undefined;
    attempt.givenUp = true;
    if (timeout) this.failed(timeout);
    else this.status = 'idle';
    attempt.controller.abort(timeout ?? new Error('every caller cancelled'));
    this.dying.add(attempt.promise);
    void attempt.promise.catch(() => undefined).finally(() => this.dying.delete(attempt.promise));
  }

  private failed(err: unknown): void {
    const wait = this.backoff.failed();
    this.status = 'failed';
    const message = err instanceof Error ? err.message : String(err);
    this.lastError =
      wait > 0
        ? `${message} (${this.backoff.failures} failures in a row; next attempt in ${(wait / 1000).toFixed(1)} s)`
        : message;
  }

  private startAttempt(): ConnectAttempt {
    const attempt: ConnectAttempt = {
      controller: new AbortController(),
      probe: new ConnectProbe(),
      waiters: 0,
      givenUp: false,
      promise: Promise.resolve() as unknown as Promise<Session>,
    };
    attempt.promise = this.connect(attempt).finally(() => {
      if (this.attempt === attempt) this.attempt = undefined;
    });
    // Rejections reach every waiter; one that all of them left is recorded in lastError only.
    attempt.promise.catch(() => undefined);
    return attempt;
  }

  private async connect(attempt: ConnectAttempt): Promise<Session> {
    this.status = 'connecting';
    let session: Session;
    try {
      session = await openSession(this.config, () => this.newClient(), {
        factory: this.options.transportFactory,
        signal: attempt.controller.signal,
        timeoutMs: this.options.connectTimeoutMs,
        probe: attempt.probe,
      });
    } catch (err) {
      if (!this.closed && !attempt.givenUp) this.failed(err);
      throw err;
    }
    if (this.closed || attempt.givenUp) {
      // Connected just as everyone gave up: nobody holds this session, so it is ended.
      await session.client.close().catch(() => undefined);
      throw this.closed ? new McpPoolClosedError() : attempt.controller.signal.reason;
    }
    this.backoff.succeeded();
    this.connects++;
    this.session = session;
    this.status = 'connected';
    this.lastError = undefined;
    session.client.onclose = () => this.dropped(session);
    this.options.onEvent?.({ type: 'connected', server: this.config.name, pid: session.pid, via: session.via });
    return session;
  }

  private newClient(): Client {
    const client = new Client(this.options.clientInfo, { capabilities: clientCapabilities(this.config) });
    installClientRequestHandlers(client, this.config, this.router);
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

  /**
   * The cached list while it is fresh; `fresh` asks the server now whatever the cache holds.
   * Connecting and listing both end when the caller's signal or timeout says so.
   */
  async listTools(fresh = false, o: WaitOptions = {}): Promise<Tool[]> {
    const left = deadline(o);
    await this.open(o);
    const entry = fresh ? this.catalogue.refresh() : this.catalogue.get();
    const timeout = () =>
      new McpError(ErrorCode.RequestTimeout, `tools/list on "${this.config.name}" did not answer in time`);
    return (await waitFor(entry, left(), timeout)).tools;
  }

  async findTool(name: string, o: WaitOptions = {}): Promise<Tool> {
    const tools = await this.listTools(false, o);
    const tool = tools.find((t) => t.name === name);
    if (tool) return tool;
    throw new McpUnknownToolError(
      this.config.name,
      name,
      tools.map((t) => t.name),
    );
  }

  async callTool(name: string, args: Record<string, unknown>, opts: CallOptions = {}): Promise<CallToolResult> {
    await this.findTool(name, { signal: opts.signal, timeoutMs: opts.connectTimeoutMs ?? opts.timeoutMs });
    const release = await this.slots.acquire(opts.signal);
    const leave = this.router.enter(opts.clientRequests ?? {});
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
      leave();
      release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.status = 'closed';
    // A connect in progress is abandoned: its server process goes before close() returns.
    const attempt = this.attempt;
    attempt?.controller.abort(new McpPoolClosedError());
    await Promise.all([attempt?.promise, ...this.dying].map((p) => p?.catch(() => undefined)));
    const session = this.session;
    this.session = undefined;
    // Tell a Streamable HTTP server the session is over, so it can free it at once.
    if (session?.transport instanceof StreamableHTTPClientTransport) {
      await session.transport.terminateSession().catch(() => undefined);
    }
    await session?.client.close().catch(() => undefined);
  }
}
