import type { OAuthConfig } from '../oauth/config';
import type { ClientRequestConfig } from '../client-requests/config';

/** One MCP server after layering, variable expansion and path resolution. */
export type McpServerConfig = StdioServerConfig | HttpServerConfig;

interface ServerConfigBase {
  name: string;
  /** Most requests in flight on this server's connection at once; the pool default when absent. */
  maxConcurrency?: number;
  /** The file the entry came from, for messages. */
  source: string;
  /** What the server may ask the client (elicitation, sampling) and the roots it is told. */
  clientRequests?: ClientRequestConfig;
}

export interface StdioServerConfig extends ServerConfigBase {
  transport: 'stdio';
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

export interface HttpServerConfig extends ServerConfigBase {
  /** `http`: Streamable HTTP, falling back to SSE when the server answers 4xx; `sse`: SSE only. */
  transport: 'http' | 'sse';
  url: string;
  headers: Record<string, string>;
  /** OAuth through the MCP SDK (tokens in a file outside the repository); absent: `headers` only. */
  auth?: OAuthConfig;
}

export interface McpConfig {
  servers: Record<string, McpServerConfig>;
  /** Servers a layer turned off with `"disabled": true`. */
  disabled: string[];
  /** The files read, in layer order. */
  files: string[];
}

export const EMPTY_MCP_CONFIG: McpConfig = { servers: {}, disabled: [], files: [] };
