import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Client } from '@temporalio/client';
import type { TemporalConfig } from '../../temporal/config';
import type { AuthOptions } from '../auth/auth-options';
import { InboxService } from '../approvals/inbox.service';
import { publicUrls } from '../approvals/public-urls';
import type { SpecStore } from '../specs/spec-store';
import { AUTH_OPTIONS, SPEC_STORE, TEMPORAL_CLIENT, TEMPORAL_CONFIG } from '../tokens';
import { WorkflowsService } from '../workflows/workflows.service';
import { createOrchestratorMcpServer, type OrchestratorMcpServer } from './create-mcp-server';
import { executionClosed } from './execution-closed';
import { McpHttpSessions } from './http/mcp-http-sessions';
import type { McpServerConfig } from './mcp-server-config';
import type { OrchestratorServices, SessionContext } from './orchestrator-services';
import { SpecCatalog } from './spec-catalog';

export const MCP_SERVER_CONFIG = Symbol('MCP_SERVER_CONFIG');

/** The API's services gathered for MCP sessions: the HTTP endpoint's, and the stdio entry's one. */
@Injectable()
export class OrchestratorMcp implements OnModuleDestroy {
  readonly services: OrchestratorServices;
  readonly http: McpHttpSessions;
  private readonly logger = new Logger('McpServer');
  private readonly standalone = new Set<OrchestratorMcpServer>();

  constructor(
    @Inject(WorkflowsService) runs: WorkflowsService,
    @Inject(InboxService) inbox: InboxService,
    @Inject(SPEC_STORE) store: SpecStore,
    @Inject(AUTH_OPTIONS) auth: AuthOptions,
    @Inject(TEMPORAL_CONFIG) temporal: TemporalConfig,
    @Inject(MCP_SERVER_CONFIG) config: McpServerConfig,
    @Inject(TEMPORAL_CLIENT) client: Client,
  ) {
    this.services = {
      runs,
      inbox,
      store,
      catalog: new SpecCatalog(store, config.specPollMs, this.logger),
      // The request's own Host when API_PUBLIC_URL is not set, as the REST inbox does.
      urls: (extra) => publicUrls(auth, temporal, { protocol: 'http', headers: extra.requestInfo?.headers ?? {} }),
      waitPollMs: config.waitPollMs,
      executionClosed: (workflowId, signal) => executionClosed(client, temporal.namespace, workflowId, signal),
      logger: this.logger,
    };
    this.http = new McpHttpSessions(this.services, config);
  }

  /** A server for a transport of the caller's (stdio); closed with the application. */
  async create(session: SessionContext): Promise<OrchestratorMcpServer> {
    const mcp = await createOrchestratorMcpServer(this.services, session);
    this.standalone.add(mcp);
    return mcp;
  }

  async onModuleDestroy(): Promise<void> {
    await this.http.closeAll();
    await Promise.all([...this.standalone].map((m) => m.close().catch(() => undefined)));
  }
}
