import { Module } from '@nestjs/common';
import { McpController } from './mcp.controller';
import { McpInventoryService } from './mcp-inventory.service';

/** GET /mcp/servers and /mcp/tools; needs TEMPORAL_CLIENT and TEMPORAL_CONFIG from the global core module. */
@Module({ controllers: [McpController], providers: [McpInventoryService] })
export class McpModule {}
