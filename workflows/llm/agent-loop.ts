/**
 * The agent loop: model → tool calls → results → model, until the model answers without calling
 * a tool or the turn limit is hit. Each turn is a model activity and each tool call its own
 * activity, so every turn is in the history; the turns are also reported live to progress.
 *
 * The conversation lives in the blob store (conversation.ts): a turn's activity input is a
 * reference plus the messages the turn adds, and tool results are stored, not returned. Between
 * two turns the loop's whole state is small (`AgentLoopState`), so a loop run as its own workflow
 * (agent-workflow.ts) can continue as new there.
 */
import { ApplicationFailure, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { RUN_SPEC_WORKFLOW } from '../contracts/run';
import type { BlobRef } from '../contracts/blobs';
import { errorMessage } from '../steps/errors';
import type { ApprovalDecision, ApprovalRequest } from '../approvals/approval-request';
import { callAgentTool, matchesPattern, type AgentTool, type ToolCallOptions } from './agent-tools';
import { toolResultText } from '../contracts/tool';
import type { FinishReason, LlmMessage, LlmOutputSchema, LlmToolCall, Usage, AppendedMessage } from '../contracts/llm';
import { callAgentToolStored, callModelTurn, CONVERSATION_BY_REFERENCE_PATCH } from './conversation';
import type { StepLedger } from './ledger';
import { callModel, type ModelCallOptions } from './model-call';

export interface AgentLoopOptions {
  model: string;
  system?: string;
  prompt: string;
  tools: AgentTool[];
  /** Patterns of tools whose calls wait for a human first. */
  requireApproval: string[];
  approvers?: string[];
  maxIterations: number;
  /** At the limit: fail the step (default), or ask once more for an answer without tools. */
  onMaxIterations: 'fail' | 'finalAnswer';
  schema?: LlmOutputSchema;
  maxRepairs?: number;
  maxTokens?: number;
  temperature?: number;
  maxToolResultChars: number;
  call: ModelCallOptions;
  toolCall: ToolCallOptions;
}

/**
 * The step that answers what an MCP server asks during the agent's tool calls (elicitation,
 * sampling): the agent step itself when the loop runs in the spec run, whose update handlers
 * answer them; none in a child loop, which has no such handlers (the server's request is refused).
 */
function askingStep(ctx: AgentLoopContext): string | undefined {
  return workflowInfo().workflowType === RUN_SPEC_WORKFLOW ? ctx.path : undefined;
}

/** What the loop needs of the step running it (a StepContext has all of it). */
export interface AgentLoopContext {
  readonly path: string;
  readonly ledger: StepLedger;
  requestApproval(request: ApprovalRequest, key?: string): Promise<ApprovalDecision>;
  report(progress: unknown): void;
}

export type ToolCallStatus = 'running' | 'waiting_approval' | 'completed' | 'failed' | 'rejected';

export interface AgentToolCallRecord {
  id: string;
  /** `server.tool`, or the name the model made up. */
  tool: string;
  arguments: Record<string, unknown> | null;
  status: ToolCallStatus;
  error?: string;
  decidedBy?: string;
}

export interface AgentTurn {
  iteration: number;
  /** The model's text this turn (cut to 2,000 characters here; the history has it whole). */
  text: string;
  finishReason: FinishReason;
  usage: Usage;
  toolCalls: AgentToolCallRecord[];
}

export interface AgentProgress {
  iteration: number;
  maxIterations: number;
  /** The latest turns (at most MAX_SHOWN_TURNS); `earlierTurns` counts those no longer shown. */
  turns: AgentTurn[];
  earlierTurns?: number;
  /** The child workflow running the loop, when it runs in one (agent-workflow.ts). */
  agentWorkflowId?: string;
}

export interface AgentResult {
  /** The final text, or the parsed object when the step has a schema. */
  answer: unknown;
  iterations: number;
  toolCalls: number;
}

/** Where a loop on a stored conversation stands between two turns: what continue-as-new carries. */
export interface AgentLoopState {
  /** The next turn's number. */
  iteration: number;
  toolCalls: number;
  conversation: BlobRef;
  /** Messages the next turn adds (tool results by reference, the closing nudge). */
  append: AppendedMessage[];
  turns: AgentTurn[];
  earlierTurns: number;
}

export type AgentLoopOutcome = { done: AgentResult } | { paused: AgentLoopState };

/**
 * Asked before every turn but the first of a run of the loop: true pauses the loop there (the
 * caller continues as new with the state). Only a loop on a stored conversation can pause.
 */
export type PauseCheck = (turnsRunHere: number) => boolean;

const TURN_TEXT_LIMIT = 2000;
/** Turns progress shows; a long loop's progress (and the step record) stays small. */
export const MAX_SHOWN_TURNS = 50;
const FINAL_ANSWER_NUDGE =
  'You have used all the turns you may use tools in. Do not call any tool now: give your final answer from what you have.';

interface ModelTurnRequest {
  model: string;
  toolChoice?: 'auto' | 'none';
  schema?: LlmOutputSchema;
  maxRepairs?: number;
  maxTokens?: number;
  temperature?: number;
}

/** How the loop talks to the model and the tools: the whole conversation inline, or by reference. */
interface Conversation {
  ask(
    request: ModelTurnRequest,
    summary: string,
  ): Promise<{ text: string; object?: unknown; toolCalls: LlmToolCall[]; finishReason: FinishReason; usage: Usage }>;
  /** The last reply stays in the conversation: its tool calls are answered next. */
  keepReply(reply: { text: string; toolCalls: LlmToolCall[] }): void;
  /** Adds messages for the next turn. */
  add(messages: AppendedMessage[]): void;
  /** Runs a tool; its result as the message the model will read. */
  callTool(
    tool: AgentTool,
    call: LlmToolCall & { arguments: Record<string, unknown> },
    summary: string,
  ): Promise<AppendedMessage>;
  /** The state between two turns, when the conversation is stored. */
  stored(): { conversation: BlobRef; append: AppendedMessage[] } | undefined;
}

/** Before CONVERSATION_BY_REFERENCE_PATCH: every turn sends every message. */
function inlineConversation(ctx: AgentLoopContext, opts: AgentLoopOptions): Conversation {
  const messages: LlmMessage[] = [];
  if (opts.system !== undefined) messages.push({ role: 'system', content: opts.system });
  messages.push({ role: 'user', content: opts.prompt });
  const toolSpecs = opts.tools.map((t) => t.spec);
  return {
    ask: (request, summary) =>
      callModel(
        ctx.ledger,
        {
          model: request.model,
          messages,
          ...(toolSpecs.length && { tools: toolSpecs, toolChoice: request.toolChoice }),
          schema: request.schema,
          maxRepairs: request.maxRepairs,
          maxTokens: request.maxTokens,
          temperature: request.temperature,
        },
        { ...opts.call, summary },
      ),
    keepReply: (reply) => messages.push({ role: 'assistant', content: reply.text, toolCalls: reply.toolCalls }),
    add: (added) => messages.push(...(added as LlmMessage[])),
    async callTool(tool, call, summary) {
      const out = await callAgentTool(tool, call.arguments, summary, opts.toolCall, askingStep(ctx));
      return {
        role: 'tool',
        toolCallId: call.id,
        name: call.name,
        content: toolResultText(out, opts.maxToolResultChars),
      };
    },
    stored: () => undefined,
  };
}

function storedConversation(
  ctx: AgentLoopContext,
  opts: AgentLoopOptions,
  resume?: { conversation: BlobRef; append: AppendedMessage[] },
): Conversation {
  let conversation = resume?.conversation;
  let append: AppendedMessage[] = resume?.append ?? [
    ...(opts.system !== undefined ? [{ role: 'system' as const, content: opts.system }] : []),
    { role: 'user', content: opts.prompt },
  ];
  let withReply: BlobRef | undefined;
  const hasTools = opts.tools.length > 0;
  return {
    async ask(request, summary) {
      const reply = await callModelTurn(
        ctx.ledger,
        {
          ...request,
          toolChoice: hasTools ? request.toolChoice : undefined,
          conversation,
          append,
          // Declared once: the stored conversation keeps them for the later turns.
          ...(conversation === undefined && hasTools && { tools: opts.tools.map((t) => t.spec) }),
        },
        { ...opts.call, summary },
      );
      conversation = reply.conversation;
      withReply = reply.withReply;
      append = [];
      return reply;
    },
    keepReply() {
      if (!withReply) throw new Error('a reply without tool calls cannot be answered');
      conversation = withReply;
    },
    add: (added) => append.push(...added),
    async callTool(tool, call, summary) {
      const result = await callAgentToolStored(
        tool,
        call,
        opts.maxToolResultChars,
        summary,
        opts.toolCall,
        askingStep(ctx),
      );
      return { stored: result.stored };
    },
    stored: () => (conversation ? { conversation, append } : undefined),
  };
}

/** Runs the loop to its end in the calling workflow. */
export async function runAgentLoop(ctx: AgentLoopContext, opts: AgentLoopOptions): Promise<AgentResult> {
  const outcome = await runAgentTurns(ctx, opts);
  if ('done' in outcome) return outcome.done;
  throw new Error('an agent loop without a pause check paused');
}

/**
 * Runs turns from the start (or from `resume`) until the loop ends, or until `pause` asks it to
 * stop between two turns.
 */
export async function runAgentTurns(
  ctx: AgentLoopContext,
  opts: AgentLoopOptions,
  resume?: AgentLoopState,
  pause?: PauseCheck,
): Promise<AgentLoopOutcome> {
  const byModelName = new Map(opts.tools.map((t) => [t.modelName, t]));
  const progress: AgentProgress = {
    iteration: resume ? resume.iteration - 1 : 0,
    maxIterations: opts.maxIterations,
    turns: resume?.turns ?? [],
    ...(resume?.earlierTurns && { earlierTurns: resume.earlierTurns }),
  };
  const convo =
    resume || patched(CONVERSATION_BY_REFERENCE_PATCH)
      ? storedConversation(ctx, opts, resume)
      : inlineConversation(ctx, opts);
  let toolCallCount = resume?.toolCalls ?? 0;

  const runCall = async (call: LlmToolCall, turn: AgentTurn, index: number): Promise<AppendedMessage> => {
    const tool = byModelName.get(call.name);
    const record: AgentToolCallRecord = {
      id: call.id,
      tool: tool?.address ?? call.name,
      arguments: call.arguments,
      status: 'running',
    };
    turn.toolCalls.push(record);
    const answer = (content: string, status: ToolCallStatus, error?: string): LlmMessage => {
      record.status = status;
      if (error !== undefined) record.error = error;
      return {
        role: 'tool',
        toolCallId: call.id,
        name: call.name,
        content,
        ...(status !== 'completed' && { isError: true }),
      };
    };
    if (!tool) {
      const known = opts.tools.map((t) => t.modelName).join(', ') || 'none';
      return answer(`Error: there is no tool "${call.name}" (tools: ${known}).`, 'failed', 'unknown tool');
    }
    if (call.arguments === null) {
      return answer(
        `Error: the arguments were not a JSON object (${call.argumentsError ?? 'unparseable'}). Call again with valid JSON.`,
        'failed',
        call.argumentsError,
      );
    }
    if (opts.requireApproval.some((p) => matchesPattern(tool.address, p))) {
      record.status = 'waiting_approval';
      const decision = await ctx.requestApproval(
        {
          prompt: `Agent ${ctx.path} wants to call ${tool.address} with ${JSON.stringify(call.arguments)}`,
          approvers: opts.approvers,
          onTimeout: 'reject',
        },
        `turn${turn.iteration}.call${index}`,
      );
      record.decidedBy = decision.by;
      if (decision.decision === 'reject') {
        const why = decision.comment ? `: ${decision.comment}` : '';
        return answer(
          `A human (${decision.by}) rejected this call${why}. Do not repeat it.`,
          'rejected',
          `rejected by ${decision.by}${why}`,
        );
      }
      record.status = 'running';
    }
    try {
      const result = await convo.callTool(
        tool,
        { ...call, arguments: call.arguments },
        `${ctx.path}: turn ${turn.iteration} ${tool.address}`,
      );
      record.status = 'completed';
      return result;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const message = errorMessage(err);
      return answer(`Error: ${message}`, 'failed', message);
    }
  };

  let turnsHere = 0;
  for (let iteration = resume?.iteration ?? 1; ; iteration++) {
    const stored = convo.stored();
    if (turnsHere > 0 && stored && pause?.(turnsHere)) {
      return {
        paused: {
          iteration,
          toolCalls: toolCallCount,
          ...stored,
          turns: progress.turns,
          earlierTurns: progress.earlierTurns ?? 0,
        },
      };
    }
    turnsHere++;
    const closing = iteration > opts.maxIterations;
    progress.iteration = iteration;
    ctx.report(progress);
    const reply = await convo.ask(
      {
        model: opts.model,
        toolChoice: closing ? 'none' : 'auto',
        schema: opts.schema,
        maxRepairs: opts.maxRepairs,
        maxTokens: opts.maxTokens,
        temperature: opts.temperature,
      },
      `${ctx.path}: turn ${iteration}`,
    );
    const turn: AgentTurn = {
      iteration,
      text: reply.text.slice(0, TURN_TEXT_LIMIT),
      finishReason: reply.finishReason,
      usage: reply.usage,
      toolCalls: [],
    };
    progress.turns.push(turn);
    if (progress.turns.length > MAX_SHOWN_TURNS) {
      progress.turns.shift();
      progress.earlierTurns = (progress.earlierTurns ?? 0) + 1;
    }
    if (reply.toolCalls.length === 0) {
      return {
        done: { answer: opts.schema ? reply.object : reply.text, iterations: iteration, toolCalls: toolCallCount },
      };
    }
    if (closing || (iteration === opts.maxIterations && opts.onMaxIterations === 'fail')) {
      const asked = reply.toolCalls.map((c) => byModelName.get(c.name)?.address ?? c.name);
      throw ApplicationFailure.create({
        type: 'AgentMaxIterations',
        message: `agent "${ctx.path}" reached maxIterations (${opts.maxIterations}) without a final answer; it still wanted to call ${asked.join(', ')}`,
        nonRetryable: true,
        details: [{ iterations: iteration, toolCalls: toolCallCount, lastText: turn.text }],
      });
    }
    if (iteration === opts.maxIterations) {
      // The calls of this turn are not run: the model is asked to conclude instead.
      convo.add([{ role: 'user', content: FINAL_ANSWER_NUDGE }]);
      continue;
    }
    convo.keepReply(reply);
    toolCallCount += reply.toolCalls.length;
    const results = await Promise.all(reply.toolCalls.map((call, i) => runCall(call, turn, i + 1)));
    convo.add(results);
  }
}
