/**
 * Settings of the orchestrator's MCP server (/mcp and `npm run mcp`), read from the environment
 * once at start-up; a bad value stops the process naming the key.
 */
import { z } from 'zod';
import { parseConfig } from '../../config/config-errors';

export interface McpServerConfig {
  /**
   * Host names (no port) a request's Host header may carry, and an Origin header's host must be
   * one of: DNS-rebinding protection. Default: localhost, 127.0.0.1, [::1] and API_PUBLIC_URL's host.
   */
  allowedHosts: string[];
  /** Further origins (scheme://host[:port]) browsers may call /mcp from; default none. */
  allowedOrigins: string[];
  /** Open sessions at most; an initialize beyond it is answered 503. */
  maxSessions: number;
  /** A session with no request open for this long is closed (clients re-initialize). */
  sessionIdleMs: number;
  /** Server-sent messages each session keeps for clients that resume a stream (Last-Event-ID). */
  eventsPerSession: number;
  /** How often the spec store is listed for specs registered by another process (list_changed). */
  specPollMs: number;
  /** How often wait_for_run reads the run it waits for. */
  waitPollMs: number;
}

export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

const list = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  );

const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .default(String(fallback))
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const schema = z.object({
  MCP_ALLOWED_HOSTS: list.pipe(
    z.array(z.string().regex(/^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/, 'must be host names without ports')),
  ),
  MCP_ALLOWED_ORIGINS: list.pipe(z.array(z.url({ message: 'must be origins such as https://app.example.com' }))),
  MCP_MAX_SESSIONS: integer(1000, 1, 100_000),
  MCP_SESSION_IDLE_MS: integer(30 * 60_000, 1000, 7 * 86_400_000),
  MCP_EVENTS_PER_SESSION: integer(1000, 1, 1_000_000),
  MCP_SPEC_POLL_MS: integer(2000, 100, 3_600_000),
  MCP_WAIT_POLL_MS: integer(1000, 50, 60_000),
});

/** `publicUrl`: the API's API_PUBLIC_URL, whose host is allowed too. */
export function loadMcpServerConfig(env: NodeJS.ProcessEnv, publicUrl?: string): McpServerConfig {
  const parsed = parseConfig(schema, env, 'environment');
  const hosts = new Set([...LOOPBACK_HOSTS, ...parsed.MCP_ALLOWED_HOSTS.map((h) => h.toLowerCase())]);
  if (publicUrl) hosts.add(new URL(publicUrl).hostname.toLowerCase());
  return {
    allowedHosts: [...hosts],
    allowedOrigins: parsed.MCP_ALLOWED_ORIGINS.map((o) => new URL(o).origin),
    maxSessions: parsed.MCP_MAX_SESSIONS,
    sessionIdleMs: parsed.MCP_SESSION_IDLE_MS,
    eventsPerSession: parsed.MCP_EVENTS_PER_SESSION,
    specPollMs: parsed.MCP_SPEC_POLL_MS,
    waitPollMs: parsed.MCP_WAIT_POLL_MS,
  };
}
