import { Inject, Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { InboxService } from '../approvals/inbox.service';
import type { AuthOptions } from '../auth/auth-options';
import { AUTH_OPTIONS } from '../tokens';
import { WorkflowsService } from '../workflows/workflows.service';
import { isMcpEndpoint } from './http/endpoint';
import { originCheck } from './http/origin-check';
import { McpEndpointController } from './mcp-endpoint.controller';
import { loadMcpServerConfig, type McpServerConfig } from './mcp-server-config';
import { MCP_SERVER_CONFIG, OrchestratorMcp } from './orchestrator-mcp';

/**
 * The orchestrator as an MCP server: /mcp (Streamable HTTP) and OrchestratorMcp for the stdio
 * entry. Settings from the environment (mcp-server-config.ts). WorkflowsService and InboxService
 * are stateless: this module has its own instances, as ApprovalsModule does.
 */
@Module({
  controllers: [McpEndpointController],
  providers: [
    {
      provide: MCP_SERVER_CONFIG,
      inject: [AUTH_OPTIONS],
      useFactory: (auth: AuthOptions): McpServerConfig => loadMcpServerConfig(process.env, auth.publicUrl),
    },
    WorkflowsService,
    InboxService,
    OrchestratorMcp,
  ],
  exports: [OrchestratorMcp],
})
export class McpServerModule implements NestModule {
  constructor(@Inject(MCP_SERVER_CONFIG) private readonly config: McpServerConfig) {}

  /** The Host/Origin check runs as middleware: before the guards, so before the token check. */
  configure(consumer: MiddlewareConsumer): void {
    const check = originCheck(this.config);
    type Req = Parameters<typeof check>[0] & { path: string };
    consumer
      .apply((req: Req, res: Parameters<typeof check>[1], next: () => void) =>
        isMcpEndpoint(req.path) ? check(req, res, next) : next(),
      )
      .forRoutes({ path: 'mcp', method: RequestMethod.ALL });
  }
}
