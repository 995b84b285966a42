/**
 * The agent loop: model → tool calls → results → model, until the model answers without calling
 * a tool or the turn limit is hit. Each turn is an `llmChat` activity and each tool call its own
 * `mcpCallTool` activity, so every turn is in the history; the turns are also reported live to the
 * run's progress query.
 */
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { errorMessage } from '../steps/errors';
import type { StepContext } from '../steps/step-kind';
import type { ToolOutput } from '../steps/tool';
import { callAgentTool, matchesPattern, type AgentTool, type ToolCallOptions } from './agent-tools';
import type { FinishReason, LlmMessage, LlmOutputSchema, LlmToolCall, Usage } from './contract';
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
  turns: AgentTurn[];
}

export interface AgentResult {
  /** The final text, or the parsed object when the step has a schema. */
  answer: unknown;
  iterations: number;
  toolCalls: number;
}

const TURN_TEXT_LIMIT = 2000;
const FINAL_ANSWER_NUDGE =
  'You have used all the turns you may use tools in. Do not call any tool now: give your final answer from what you have.';

function toolResultText(out: ToolOutput, limit: number): string {
  const text =
    out.text || (out.structured !== undefined ? JSON.stringify(out.structured) : JSON.stringify(out.content));
  return text.length > limit ? `${text.slice(0, limit)}\n[truncated: ${text.length - limit} more characters]` : text;
}

export async function runAgentLoop(ctx: StepContext, opts: AgentLoopOptions): Promise<AgentResult> {
  const byModelName = new Map(opts.tools.map((t) => [t.modelName, t]));
  const toolSpecs = opts.tools.map((t) => t.spec);
  const progress: AgentProgress = { iteration: 0, maxIterations: opts.maxIterations, turns: [] };
  const messages: LlmMessage[] = [];
  if (opts.system !== undefined) messages.push({ role: 'system', content: opts.system });
  messages.push({ role: 'user', content: opts.prompt });
  let toolCallCount = 0;

  const runCall = async (call: LlmToolCall, turn: AgentTurn, index: number): Promise<LlmMessage> => {
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
      const out = await callAgentTool(
        tool,
        call.arguments,
        `${ctx.path}: turn ${turn.iteration} ${tool.address}`,
        opts.toolCall,
      );
      return answer(toolResultText(out, opts.maxToolResultChars), 'completed');
    } catch (err) {
      if (isCancellation(err)) throw err;
      const message = errorMessage(err);
      return answer(`Error: ${message}`, 'failed', message);
    }
  };

  for (let iteration = 1; ; iteration++) {
    const closing = iteration > opts.maxIterations;
    progress.iteration = iteration;
    ctx.report(progress);
    const reply = await callModel(
      ctx.ledger,
      {
        model: opts.model,
        messages,
        ...(toolSpecs.length && { tools: toolSpecs, toolChoice: closing ? 'none' : 'auto' }),
        schema: opts.schema,
        maxRepairs: opts.maxRepairs,
        maxTokens: opts.maxTokens,
        temperature: opts.temperature,
      },
      { ...opts.call, summary: `${ctx.path}: turn ${iteration}` },
    );
    const turn: AgentTurn = {
      iteration,
      text: reply.text.slice(0, TURN_TEXT_LIMIT),
      finishReason: reply.finishReason,
      usage: reply.usage,
      toolCalls: [],
    };
    progress.turns.push(turn);
    if (reply.toolCalls.length === 0) {
      return { answer: opts.schema ? reply.object : reply.text, iterations: iteration, toolCalls: toolCallCount };
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
      messages.push({ role: 'user', content: FINAL_ANSWER_NUDGE });
      continue;
    }
    messages.push({ role: 'assistant', content: reply.text, toolCalls: reply.toolCalls });
    toolCallCount += reply.toolCalls.length;
    const results = await Promise.all(reply.toolCalls.map((call, i) => runCall(call, turn, i + 1)));
    messages.push(...results);
  }
}
