import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { schemaRef } from '../openapi/components';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import { McpInventoryService } from './mcp-inventory.service';
import {
  mcpServersQuerySchema,
  type McpServersQuery,
  type McpServersResponse,
  type McpToolsResponse,
} from './mcp-views';

const noWorker = ApiResponse({
  status: 503,
  description: 'No orchestrator worker polls the task queue, or Temporal is down',
});
const timedOut = ApiResponse({ status: 504, description: 'No worker answered in time' });

@ApiTags('mcp')
@Controller('mcp')
export class McpController {
  constructor(@Inject(McpInventoryService) private readonly inventory: McpInventoryService) {}

  @Get('servers')
  @ApiOperation({ summary: "The MCP servers of an orchestrator worker's pool: status and tool count" })
  @ApiQuery({ name: 'connect', required: false, enum: ['true', 'false'], description: 'Connect and list tools first' })
  @ApiResponse({ status: 200, schema: schemaRef('McpServersResponse') })
  @noWorker
  @timedOut
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
  @ApiOperation({ summary: 'Every tool of every MCP server, addressed as server.tool (connects servers not yet used)' })
  @ApiResponse({ status: 200, schema: schemaRef('McpToolsResponse') })
  @noWorker
  @timedOut
  async tools(): Promise<McpToolsResponse> {
    const inv = await this.inventory.inventory(true);
    return { worker: { ...inv.worker, taskQueue: inv.taskQueue }, tools: inv.tools ?? [], errors: inv.errors ?? {} };
  }
}
