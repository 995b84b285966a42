/**
 * The MCP tools an agent may use: resolved from the spec's patterns against the servers' tool
 * catalogues (fetched through the MCP activity, so the run's view is in its history), named for
 * the model, and called one activity per call.
 */
import { ActivityCancellationType, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import { toRetryPolicy } from '../spec/common';
import { type RetrySpec } from '../contracts/spec';
import { durationToMs, type Duration } from '../contracts/duration';
import { DEFAULT_TOOL_HEARTBEAT_TIMEOUT, DEFAULT_TOOL_TIMEOUT } from '../steps/tool';
import { type McpToolActivities, type ToolDescriptor, type ToolOutput } from '../contracts/tool';
import type { LlmToolSpec } from '../contracts/llm';

/** `server.tool`, or `server.*` for every tool of a server. */
export const TOOL_PATTERN_RE = /^[A-Za-z0-9_-]{1,64}\.(\*|[^\s.$][^\s$]*)$/;

export interface AgentTool {
  /** `server.tool` as specs and history name it. */
  address: string;
  server: string;
  tool: string;
  /** The name the model sees (providers allow only [A-Za-z0-9_-]{1,64}). */
  modelName: string;
  spec: LlmToolSpec;
}

export interface ToolCallOptions {
  timeout?: Duration;
  heartbeatTimeout?: Duration;
  retry?: RetrySpec;
}

export const DEFAULT_AGENT_TOOL_RETRY: RetrySpec = {
  maxAttempts: 3,
  initialInterval: '1s',
  backoffCoefficient: 2,
  maxInterval: '10s',
};

export function matchesPattern(address: string, pattern: string): boolean {
  return pattern.endsWith('.*') ? address.startsWith(pattern.slice(0, -1)) : address === pattern;
}

/** `server.tool` → `server__tool`, other characters providers refuse → `_`. */
function modelNameFor(server: string, tool: string, taken: Set<string>): string {
  const base = `${server}__${tool}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60);
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
  taken.add(name);
  return name;
}

/** Fetches each named server's catalogue once and picks the tools the patterns allow. */
export async function resolveAgentTools(patterns: string[], path: string): Promise<AgentTool[]> {
  if (patterns.length === 0) return [];
  const { mcpListTools } = proxyActivities<McpToolActivities>({
    startToCloseTimeout: '1m',
    retry: toRetryPolicy(DEFAULT_AGENT_TOOL_RETRY),
    summary: `${path}: tool catalogue`,
  });
  const servers = [...new Set(patterns.map((p) => p.slice(0, p.indexOf('.'))))];
  const catalogues = await Promise.all(servers.map((server) => mcpListTools({ server })));
  const taken = new Set<string>();
  const tools: AgentTool[] = [];
  for (const catalogue of catalogues) {
    for (const descriptor of catalogue.tools) {
      const address = `${catalogue.server}.${descriptor.name}`;
      if (!patterns.some((p) => matchesPattern(address, p))) continue;
      tools.push(toAgentTool(catalogue.server, descriptor, address, taken));
    }
  }
  const unmatched = patterns.filter((p) => !tools.some((t) => matchesPattern(t.address, p)));
  if (unmatched.length) {
    const available = catalogues.flatMap((c) => c.tools.map((t) => `${c.server}.${t.name}`));
    throw ApplicationFailure.create({
      type: 'McpUnknownTool',
      message: `agent "${path}": no tool matches ${unmatched.join(', ')} (available: ${available.join(', ') || 'none'})`,
      nonRetryable: true,
      details: [{ unmatched, available }],
    });
  }
  return tools;
}

function toAgentTool(server: string, descriptor: ToolDescriptor, address: string, taken: Set<string>): AgentTool {
  const modelName = modelNameFor(server, descriptor.name, taken);
  return {
    address,
    server,
    tool: descriptor.name,
    modelName,
    spec: {
      name: modelName,
      ...(descriptor.description !== undefined && { description: descriptor.description }),
      parameters: descriptor.inputSchema,
    },
  };
}

/** One tool call as its own activity (summary: `<step>: turn N server.tool`). */
export function callAgentTool(
  tool: AgentTool,
  args: Record<string, unknown>,
  summary: string,
  opts: ToolCallOptions,
  /** The step that answers what the server asks during the call (absent: refused). */
  step?: string,
): Promise<ToolOutput> {
  const { mcpCallTool } = proxyActivities<McpToolActivities>({
    startToCloseTimeout: durationToMs(opts.timeout ?? DEFAULT_TOOL_TIMEOUT),
    heartbeatTimeout: durationToMs(opts.heartbeatTimeout ?? DEFAULT_TOOL_HEARTBEAT_TIMEOUT),
    retry: toRetryPolicy(opts.retry ?? DEFAULT_AGENT_TOOL_RETRY),
    summary,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  return mcpCallTool({ server: tool.server, tool: tool.tool, arguments: args, ...(step !== undefined && { step }) });
}
