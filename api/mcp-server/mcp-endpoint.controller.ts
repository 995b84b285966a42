import type { ServerResponse } from 'node:http';
import { All, Controller, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Identity } from '../../workflows/contracts/identity';
import { bearerToken, CurrentIdentity } from '../auth';
import { OrchestratorMcp } from './orchestrator-mcp';

/**
 * POST, GET and DELETE on exactly /mcp: the MCP Streamable HTTP endpoint (GET /mcp/servers and
 * /mcp/tools are McpController's REST routes). The API's token check has run (viewer at least;
 * each tool checks its own role); the Host/Origin check ran before it (McpServerModule).
 * Left out of the OpenAPI document: it speaks JSON-RPC over SSE, not REST, so the fuzz stage
 * (which tests what the document lists) does not call it.
 */
@ApiExcludeController()
@Controller('mcp')
export class McpEndpointController {
  constructor(@Inject(OrchestratorMcp) private readonly mcp: OrchestratorMcp) {}

  @All()
  async handle(
    @Req() req: Parameters<OrchestratorMcp['http']['handle']>[0],
    @Res() res: ServerResponse,
    @CurrentIdentity() identity: Identity,
  ): Promise<void> {
    // The guard accepted this request's bearer token (/mcp takes no cookie).
    const token = bearerToken(req.headers.authorization) ?? '';
    try {
      await this.mcp.http.handle(req, res, token, identity);
    } catch (err) {
      this.mcp.services.logger.error(`MCP request failed: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }));
      } else if (!res.writableEnded) res.end();
    }
  }
}
