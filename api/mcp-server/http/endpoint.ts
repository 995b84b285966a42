/** Where the Streamable HTTP endpoint lives, and what it answers a body the API's JSON parser refused. */
export const MCP_ENDPOINT_PATH = '/mcp';

/** Exactly /mcp (express ignores case and a trailing slash), not /mcp/servers. */
export const isMcpEndpoint = (path: string): boolean => /^\/mcp\/?$/i.test(path);

/** A JSON-RPC error instead of the REST error shape: -32700 for JSON that does not parse. */
export function jsonRpcBodyError(statusCode: number, message: string): object {
  const code = statusCode === 400 ? -32700 : -32600;
  return {
    jsonrpc: '2.0',
    error: { code, message: `${code === -32700 ? 'Parse error' : 'Invalid request'}: ${message}` },
    id: null,
  };
}
