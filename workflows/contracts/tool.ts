/**
 * The contract between workflows and the MCP activities: tool catalogues, calls and outputs.
 * Workflow-safe; workflows may not import from activities/.
 */

export interface ToolDescriptor {
  name: string;
  description?: string;
  inputSchema: { type: 'object'; properties?: Record<string, unknown>; required?: string[]; [k: string]: unknown };
}

/** A server's tool list as one run saw it; recorded in the run's history as an activity result. */
export interface ToolCatalogue {
  server: string;
  tools: ToolDescriptor[];
  /** When the worker's pool fetched the list from the server (ISO time). */
  fetchedAt: string;
}

export interface ToolCallInput {
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
  /** The calling step's path: what the server asks during the call (elicitation, sampling) is shown on it. */
  step?: string;
}

/** Binary content stays out of history: the output carries a reference to a stored copy. */
export interface BlobReference {
  mimeType: string;
  bytes: number;
  sha256: string;
  /** Where the worker stored it (file:// URI), or `sha256:<hex>` when it keeps no copy. */
  ref: string;
}

export type ToolContent =
  | { type: 'text'; text: string }
  | ({ type: 'image' | 'audio' } & BlobReference)
  | { type: 'resource'; uri: string; mimeType?: string; text: string }
  | ({ type: 'resource'; uri: string } & BlobReference)
  | { type: 'resource_link'; uri: string; name: string; mimeType?: string; description?: string };

export interface ToolOutput {
  /** Every text block, joined by newlines. */
  text: string;
  /** The tool's `structuredContent`, when it returns one. */
  structured?: unknown;
  content: ToolContent[];
}

export type McpFailureType =
  | 'McpToolError'
  | 'McpUnknownTool'
  | 'McpUnknownServer'
  | 'McpInvalidArguments'
  | 'McpTransportError'
  | 'McpAuthError'
  | 'McpConnectBackoff'
  | 'McpProtocolError'
  | 'McpServerError';

export interface McpToolActivities {
  /** `fresh`: ask the server now rather than trust the worker's cached list. */
  mcpListTools(input: { server: string; fresh?: boolean }): Promise<ToolCatalogue>;
  mcpCallTool(input: ToolCallInput): Promise<ToolOutput>;
}

/** A tool's output as the model reads it: its text (or JSON), cut at `limit` characters with a note. */
export function toolResultText(out: ToolOutput, limit: number): string {
  const text =
    out.text || (out.structured !== undefined ? JSON.stringify(out.structured) : JSON.stringify(out.content));
  return text.length > limit ? `${text.slice(0, limit)}\n[truncated: ${text.length - limit} more characters]` : text;
}
