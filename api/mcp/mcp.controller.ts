import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiBadRequest, ApiQueryFrom, ApiTemporalFailures, schemaRef } from '../openapi/components';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import { McpInventoryService } from './mcp-inventory.service';
import {
  mcpServersQuerySchema,
  type McpServersQuery,
  type McpServersResponse,
  type McpToolsResponse,
} from './mcp-views';

// 502: the worker could not report; 503: no worker polls the task queue, or Temporal is down;
// 504: no worker answered in time.
const workerFailures = ApiTemporalFailures;

@ApiTags('mcp')
@Controller('mcp')
export class McpController {
  constructor(@Inject(McpInventoryService) private readonly inventory: McpInventoryService) {}

  @Get('servers')
  @ApiOperation({
    operationId: 'listMcpServers',
    summary: "The MCP servers of an orchestrator worker's pool: status and tool count",
  })
  @ApiQueryFrom(mcpServersQuerySchema)
  @ApiResponse({ status: 200, schema: schemaRef('McpServersResponse') })
  @ApiBadRequest('Unknown or invalid query parameter')
  @workerFailures()
  async servers(
    @Query(new ZodValidationPipe(mcpServersQuerySchema)) query: McpServersQuery,
  ): Promise<McpServersResponse> {
    const inv = await this.inventory.inventory(query.connect);
    return {
      worker: { ...inv.worker, taskQueue: inv.taskQueue },
      servers: inv.servers.map(({ source: _source, catalogueAgeMs: _age, ...server }) => server),
      disabled: inv.disabled,
      configFiles: inv.configFiles,
    };
  }

  @Get('tools')
  @ApiOperation({
    operationId: 'listMcpTools',
    summary: 'Every tool of every MCP server, addressed as server.tool (connects servers not yet used)',
  })
  @ApiResponse({ status: 200, schema: schemaRef('McpToolsResponse') })
  @workerFailures()
  async tools(): Promise<McpToolsResponse> {
    const inv = await this.inventory.inventory(true);
    return { worker: { ...inv.worker, taskQueue: inv.taskQueue }, tools: inv.tools ?? [], errors: inv.errors ?? {} };
  }
}
