/**
 * An agent's conversation by reference: the messages live in the blob store as a chain of
 * content-addressed nodes (each holds the messages one turn added and a reference to the node
 * before), and a turn's activity input carries the reference plus the few messages it adds. So
 * each turn's input stays small however long the conversation, and a history grows with the
 * number of turns, not with their square. Tool results go into the store the same way.
 */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import { toRetryPolicy } from '../spec/common';
import { durationToMs } from '../contracts/duration';
import { DEFAULT_TOOL_HEARTBEAT_TIMEOUT, DEFAULT_TOOL_TIMEOUT } from '../steps/tool';
import { DEFAULT_AGENT_TOOL_RETRY, type AgentTool, type ToolCallOptions } from './agent-tools';
import type { ConversationActivities, LlmTurnRequest, LlmTurnResponse, StoredToolResult } from '../contracts/llm';
import type { StepLedger } from './ledger';
import { chargedModelCall, type ModelCallOptions } from './model-call';

/**
 * Runs before it sent the whole conversation as every turn's input and each tool result inline.
 * Recorded histories without this marker replay the old way.
 */
export const CONVERSATION_BY_REFERENCE_PATCH = 'agent-conversation-by-reference';

/** One model turn on a stored conversation: budget gates, the activity, the charge (as callModel). */
export function callModelTurn(
  ledger: StepLedger,
  request: LlmTurnRequest,
  opts: ModelCallOptions & { summary: string },
): Promise<LlmTurnResponse> {
  return chargedModelCall<ConversationActivities, LlmTurnResponse>(ledger, { ...opts, model: request.model }, (a) =>
    a.llmChatTurn(request),
  );
}

/** One tool call whose result goes to the blob store (summary: `<step>: turn N server.tool`). */
export function callAgentToolStored(
  tool: AgentTool,
  call: { id: string; name: string; arguments: Record<string, unknown> },
  maxResultChars: number,
  summary: string,
  opts: ToolCallOptions,
  /** The step that answers what the server asks during the call (absent: refused). */
  step?: string,
): Promise<StoredToolResult> {
  const { agentCallTool } = proxyActivities<ConversationActivities>({
    startToCloseTimeout: durationToMs(opts.timeout ?? DEFAULT_TOOL_TIMEOUT),
    heartbeatTimeout: durationToMs(opts.heartbeatTimeout ?? DEFAULT_TOOL_HEARTBEAT_TIMEOUT),
    retry: toRetryPolicy(opts.retry ?? DEFAULT_AGENT_TOOL_RETRY),
    summary,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  return agentCallTool({
    server: tool.server,
    tool: tool.tool,
    arguments: call.arguments,
    toolCallId: call.id,
    name: call.name,
    maxResultChars,
    ...(step !== undefined && { step }),
  });
}
