/**
 * The tool activity's answers to what its server asks mid-call: it hands the request to the run
 * that called the tool as a workflow update (the run shows a pending input, or calls its model)
 * and waits for the run's answer, heartbeating meanwhile (mcpCallTool's heartbeat goes on).
 */
import type { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type {
  CreateMessageRequestParams,
  CreateMessageResult,
  ElicitRequestFormParams,
  ElicitResult,
} from '@modelcontextprotocol/sdk/types.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from '../config/types';
import {
  mcpElicitationUpdate,
  mcpSamplingUpdate,
  type ElicitationAsk,
  type SamplingAsk,
} from '../../../workflows/contracts/mcp-client';
import type { LlmMessage } from '../../../workflows/contracts/llm';
import { waitFor } from '../abortable';
import type { ClientRequestHandlers } from './router';
import { contentProblems } from './content-check';

/** Time an attempt keeps after the answer, to hand it to the server and finish the call. */
const ANSWER_MARGIN_MS = 5_000;
/** MCP's code for a sampling request the user rejected. */
const USER_REJECTED = -1;

/** How long the attempt may still wait for a person: its start-to-close timeout left, less a margin. */
function attemptLeftMs(ctx: Context): number {
  const { startToCloseTimeoutMs, currentAttemptScheduledTimestampMs } = ctx.info;
  return startToCloseTimeoutMs - (Date.now() - currentAttemptScheduledTimestampMs) - ANSWER_MARGIN_MS;
}

/** The server's messages as the LLM activity takes them; only text can be passed on. */
export function samplingMessages(params: CreateMessageRequestParams): LlmMessage[] {
  const messages: LlmMessage[] = params.systemPrompt ? [{ role: 'system', content: params.systemPrompt }] : [];
  for (const [i, m] of params.messages.entries()) {
    const blocks = Array.isArray(m.content) ? m.content : [m.content];
    const text = blocks.map((b) => {
      if (b.type !== 'text')
        throw new McpError(ErrorCode.InvalidParams, `messages[${i}]: only text content can be sampled (got ${b.type})`);
      return b.text;
    });
    messages.push({ role: m.role, content: text.join('\n') });
  }
  return messages;
}

const STOP_REASONS: Record<string, string> = { stop: 'endTurn', length: 'maxTokens' };

/** Handlers for one tool call of `server` made by the step `step` of the run that runs this activity. */
export function askTheRun(ctx: Context, server: McpServerConfig, step: string | undefined): ClientRequestHandlers {
  const run = ctx.info.workflowExecution;
  let asked = 0;
  /** The run and step that called the tool, and a fresh update id (a retried update with it is not run twice). */
  const toRun = () => {
    if (!run || step === undefined)
      throw new McpError(
        ErrorCode.InvalidRequest,
        'refused: this tool call was not made by a run step that can answer',
      );
    asked++;
    const handle = ctx.client.workflow.getHandle(run.workflowId, run.runId);
    return { handle, step, updateId: `mcp-${ctx.info.activityId}-${ctx.info.attempt}-${asked}` };
  };
  /** The run's answer, unless the server withdraws the request or the step is cancelled first. */
  const answerOf = async <R>(answer: Promise<R>, signal: AbortSignal): Promise<R> => {
    const either = AbortSignal.any([signal, ctx.cancellationSignal]);
    try {
      return await waitFor(answer, { signal: either }, () => new Error('no timeout was set'));
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw new McpError(ErrorCode.InternalError, `the run refused the request: ${(err.cause ?? err).message}`);
      throw err;
    }
  };

  return {
    elicit: async (params: ElicitRequestFormParams, signal): Promise<ElicitResult> => {
      const config = server.clientRequests?.elicitation;
      const timeoutMs = Math.min(config?.timeoutMs ?? 0, attemptLeftMs(ctx));
      // Too little time left in this attempt for anyone to answer: as a timeout would, decline.
      if (timeoutMs < 1000) return { action: 'decline' };
      const target = toRun();
      const ask: ElicitationAsk = {
        step: target.step,
        server: server.name,
        message: params.message,
        requestedSchema: params.requestedSchema as Record<string, unknown>,
        ...(config?.approvers && { approvers: config.approvers }),
        timeoutMs,
      };
      const { handle, updateId } = target;
      const answer = await answerOf(handle.executeUpdate(mcpElicitationUpdate, { args: [ask], updateId }), signal);
      if (answer.action !== 'accept') return { action: answer.action };
      // The API checked it; checked again here, as another channel could have answered.
      const problems = contentProblems(params.requestedSchema as Record<string, unknown>, answer.content);
      if (problems.length) throw new McpError(ErrorCode.InternalError, `the answer does not match: ${problems[0]}`);
      return { action: 'accept', content: answer.content as ElicitResult['content'] };
    },

    sample: async (params: CreateMessageRequestParams, signal): Promise<CreateMessageResult> => {
      const config = server.clientRequests?.sampling;
      if (!config) throw new McpError(ErrorCode.InvalidRequest, 'sampling is not allowed for this server');
      const approve = config.approve && {
        ...(config.approve.approvers && { approvers: config.approve.approvers }),
        timeoutMs: Math.max(1000, Math.min(config.approve.timeoutMs, attemptLeftMs(ctx))),
      };
      const target = toRun();
      const ask: SamplingAsk = {
        step: target.step,
        server: server.name,
        model: config.model,
        messages: samplingMessages(params),
        maxTokens: Math.min(params.maxTokens, config.maxTokens),
        ...(params.temperature !== undefined && { temperature: params.temperature }),
        ...(approve && { approve }),
      };
      const { handle, updateId } = target;
      const answer = await answerOf(handle.executeUpdate(mcpSamplingUpdate, { args: [ask], updateId }), signal);
      if (!answer.ok)
        throw new McpError(answer.reason === 'rejected' ? USER_REJECTED : ErrorCode.InternalError, answer.message);
      const { response } = answer;
      return {
        role: 'assistant',
        content: { type: 'text', text: response.text },
        model: response.model,
        stopReason: STOP_REASONS[response.finishReason] ?? response.finishReason,
      };
    },
  };
}
