/**
 * The Streamable HTTP sessions of /mcp: an initialize request opens one (its own transport,
 * server and event store, under a random session id); later requests name it in
 * `Mcp-Session-Id`. A session belongs to the user who opened it; it ends on DELETE, when its
 * transport closes, after `sessionIdleMs` without an open request, or when the API shuts down.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Identity } from '../../../workflows/contracts/identity';
import { authInfoFor, identityOfAuthInfo } from '../caller';
import { createOrchestratorMcpServer, type OrchestratorMcpServer } from '../create-mcp-server';
import type { McpServerConfig } from '../mcp-server-config';
import type { OrchestratorServices } from '../orchestrator-services';
import { BoundedEventStore } from './bounded-event-store';

type McpRequest = IncomingMessage & { body?: unknown; auth?: ReturnType<typeof authInfoFor> };

interface Session {
  user: string;
  transport: StreamableHTTPServerTransport;
  mcp: OrchestratorMcpServer;
  openRequests: number;
  lastSeen: number;
}

/** How often idle sessions are looked for. */
const SWEEP_EVERY_MS = 60_000;

export class McpHttpSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly services: OrchestratorServices,
    private readonly config: Pick<McpServerConfig, 'maxSessions' | 'sessionIdleMs' | 'eventsPerSession'>,
  ) {
    this.sweeper = setInterval(() => this.closeIdle(), Math.min(SWEEP_EVERY_MS, config.sessionIdleMs));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Serves one request to /mcp from a caller the API's token check has verified. */
  async handle(req: McpRequest, res: ServerResponse, token: string, identity: Identity): Promise<void> {
    req.auth = authInfoFor(token, identity);
    const body = req.method === 'POST' ? req.body : undefined;
    const header = req.headers['mcp-session-id'];
    const sessionId = typeof header === 'string' ? header : undefined;

    if (sessionId !== undefined) {
      const session = this.sessions.get(sessionId);
      if (!session) return reply(res, 404, -32001, 'Session not found: initialize a new session');
      if (session.user !== identity.user) {
        return reply(res, 403, -32000, 'This session belongs to another user: initialize a session of your own');
      }
      return this.serve(session, req, res, body);
    }
    if (req.method === 'POST' && isInitialize(body)) {
      if (this.sessions.size >= this.config.maxSessions) {
        return reply(res, 503, -32000, `Too many open MCP sessions (${this.config.maxSessions}); retry later`);
      }
      return this.open(identity, req, res, body);
    }
    return reply(res, 400, -32000, 'Bad Request: no valid Mcp-Session-Id header; send initialize first');
  }

  /** Ends every session (the API is shutting down): their open streams end, clients re-initialize elsewhere. */
  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.values()].map((s) => s.mcp.close().catch(() => undefined)));
    this.sessions.clear();
  }

  private async open(identity: Identity, req: McpRequest, res: ServerResponse, body: unknown): Promise<void> {
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new BoundedEventStore(this.config.eventsPerSession),
      // Called while the initialize request is served, after `session` below is set.
      onsessioninitialized: (id) => void this.sessions.set(id, session),
      onsessionclosed: (id) => this.forget(id),
    });
    transport.onclose = () => {
      if (transport.sessionId) this.forget(transport.sessionId);
    };
    const mcp = await createOrchestratorMcpServer(this.services, {
      identityOf: (extra) => identityOfAuthInfo(extra.authInfo),
    });
    const session: Session = { user: identity.user, transport, mcp, openRequests: 0, lastSeen: Date.now() };
    await mcp.server.connect(transport);
    await this.serve(session, req, res, body);
    // An initialize the transport refused (e.g. a bad Accept header) opened no session.
    if (!transport.sessionId || !this.sessions.has(transport.sessionId)) await mcp.close();
  }

  private async serve(session: Session, req: McpRequest, res: ServerResponse, body: unknown): Promise<void> {
    session.openRequests++;
    session.lastSeen = Date.now();
    res.once('close', () => {
      session.openRequests--;
      session.lastSeen = Date.now();
    });
    await session.transport.handleRequest(req, res, body);
  }

  private forget(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    session.mcp.close().catch((err: unknown) => this.services.logger.warn(`closing MCP session: ${String(err)}`));
  }

  private closeIdle(): void {
    const before = Date.now() - this.config.sessionIdleMs;
    for (const [id, session] of this.sessions) {
      if (session.openRequests === 0 && session.lastSeen < before) this.forget(id);
    }
  }
}

function isInitialize(body: unknown): boolean {
  return Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body);
}

function reply(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
