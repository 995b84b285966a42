import { z } from 'zod';

const workerSchema = z.object({
  host: z.string(),
  pid: z.number().int(),
  taskQueue: z.string().meta({ description: 'The orchestrator task queue the answering worker polls' }),
});

export const mcpServerViewSchema = z.object({
  name: z.string().meta({ example: 'files' }),
  transport: z.enum(['stdio', 'http', 'sse']),
  connectedVia: z.string().optional().meta({ description: 'http, or sse when a Streamable HTTP server fell back' }),
  status: z.enum(['idle', 'connecting', 'connected', 'disconnected', 'failed', 'closed']).meta({
    description: 'idle: not used yet (servers connect on first use); disconnected: restarts on next use',
  }),
  toolCount: z.number().int().nullable().meta({ description: 'Tools in the cached list; null until first listed' }),
  connects: z.number().int().meta({ description: 'Sessions opened: 1 + restarts' }),
  pid: z.number().int().optional(),
  inFlight: z.number().int(),
  queued: z.number().int(),
  lastError: z.string().optional(),
});

export const mcpServersResponseSchema = z.object({
  worker: workerSchema,
  servers: z.array(mcpServerViewSchema),
  disabled: z.array(z.string()),
  configFiles: z.array(z.string()),
});

export const mcpToolViewSchema = z.object({
  address: z.string().meta({ example: 'files.read_text_file', description: 'How a tool step names it' }),
  server: z.string(),
  name: z.string(),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()),
});

export const mcpToolsResponseSchema = z.object({
  worker: workerSchema,
  tools: z.array(mcpToolViewSchema),
  errors: z.record(z.string(), z.string()).meta({ description: 'Servers whose tools could not be listed, with why' }),
});

export const mcpServersQuerySchema = z.strictObject({
  connect: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .meta({ description: 'Connect every server and list its tools first, so status and toolCount are current' }),
});

export type McpServersResponse = z.infer<typeof mcpServersResponseSchema>;
export type McpToolsResponse = z.infer<typeof mcpToolsResponseSchema>;
export type McpServersQuery = z.infer<typeof mcpServersQuerySchema>;
