/**
 * DNS-rebinding protection for /mcp: a page on another site whose name resolves to this host
 * must not reach the server through a browser. The Host header's name must be an allowed host
 * (any port), and an Origin header, when sent, must be on an allowed host or an allowed origin.
 * Runs before the token check, so a refused request learns nothing else.
 */
import type { McpServerConfig } from '../mcp-server-config';

interface CheckedRequest {
  headers: Record<string, string | string[] | undefined>;
}
interface JsonResponse {
  status(code: number): JsonResponse;
  json(body: unknown): void;
}

/** Why the request is refused, or undefined when it may go on. */
export function originProblem(
  headers: CheckedRequest['headers'],
  config: Pick<McpServerConfig, 'allowedHosts' | 'allowedOrigins'>,
): string | undefined {
  const host = headers.host;
  const hostName = typeof host === 'string' ? hostnameOf(`http://${host}`) : undefined;
  if (!hostName || !config.allowedHosts.includes(hostName)) {
    return `Host header ${JSON.stringify(host ?? null)} is not an allowed host of this MCP server (MCP_ALLOWED_HOSTS)`;
  }
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  if (typeof origin !== 'string') return 'more than one Origin header';
  const originHost = hostnameOf(origin);
  let normalized: string | undefined;
  try {
    normalized = new URL(origin).origin;
  } catch {
    normalized = undefined;
  }
  if (originHost && config.allowedHosts.includes(originHost)) return undefined;
  if (normalized && config.allowedOrigins.includes(normalized)) return undefined;
  return `Origin ${JSON.stringify(origin)} is not allowed to call this MCP server (MCP_ALLOWED_ORIGINS)`;
}

function hostnameOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

/** Express middleware answering a refused request 403 with a JSON-RPC error, as the MCP SDK's own check does. */
export function originCheck(config: Pick<McpServerConfig, 'allowedHosts' | 'allowedOrigins'>) {
  return (req: CheckedRequest, res: JsonResponse, next: () => void): void => {
    const problem = originProblem(req.headers, config);
    if (!problem) return next();
    res.status(403).json({ jsonrpc: '2.0', error: { code: -32000, message: problem }, id: null });
  };
}
