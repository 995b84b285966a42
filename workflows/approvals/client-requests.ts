/**
 * The run's side of what an MCP server asks during one of its tool calls (the tool activity sends
 * it as an update): an elicitation becomes a pending input on the calling step, answered through
 * the approvals API; a sampling request is answered by the run's model through the LLM activity,
 * charged to the step's ledger, after an approval when the server's config asks for one. Either
 * wait ends when the calling step stops running (its tool call is gone).
 */
import { ApplicationFailure, CancellationScope, condition, setHandler } from '@temporalio/workflow';
import {
  CANCEL_CHOICE,
  INPUT_APPROVAL_PART,
  mcpElicitationUpdate,
  mcpSamplingUpdate,
  SAMPLING_APPROVAL_PART,
  type ElicitationAnswer,
  type ElicitationAsk,
  type SamplingAnswer,
  type SamplingAsk,
} from '../contracts/mcp-client';
import type { LlmMessage } from '../contracts/llm';
import type { StepLedger } from '../llm/ledger';
import { callModel } from '../llm/model-call';
import { errorMessage } from '../steps/errors';
import type { ApprovalDecision, ApprovalRequest } from './approval-request';

export interface ClientRequestDeps {
  /** The interpreter's approval wait: `path` is shown waiting, `id` is what the API decides. */
  requestApproval(path: string, request: ApprovalRequest, id: string): Promise<ApprovalDecision>;
  ledgerFor(path: string): StepLedger;
  /** The step is running (or waiting): its tool call may still be asking. */
  isRunning(path: string): boolean;
}

/** Characters of the messages a sampling approval's prompt quotes. */
const PREVIEW_CHARS = 2000;

const refuse = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPositive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

/**
 * The update's validator: only a running step's tool call may ask, with a request of the shape the
 * tool activity sends (an update can be sent by hand; a malformed one must not reach the handler).
 */
function refuseUnlessRunning(deps: ClientRequestDeps, ask: unknown, kind: 'elicitation' | 'sampling'): void {
  const a = isObject(ask) ? ask : {};
  if (typeof a.step !== 'string' || !deps.isRunning(a.step))
    throw refuse(
      'NotWaiting',
      `no step "${String(a.step)}" is running in this run: only a running tool step's call may ask`,
    );
  const wellFormed =
    typeof a.server === 'string' &&
    (kind === 'elicitation'
      ? typeof a.message === 'string' && isObject(a.requestedSchema) && isPositive(a.timeoutMs)
      : typeof a.model === 'string' &&
        isPositive(a.maxTokens) &&
        Array.isArray(a.messages) &&
        a.messages.every((m) => isObject(m) && typeof m.role === 'string' && typeof m.content === 'string') &&
        (a.approve === undefined || (isObject(a.approve) && isPositive(a.approve.timeoutMs))));
  if (!wellFormed) throw refuse('InvalidRequest', `a malformed ${kind} request`);
}

/**
 * Runs `work` until it ends or the step `path` stops running (then it is cancelled). A cancelled
 * run cancels the step's tool call first, and that ends the work: cancelled at once instead, the
 * tool call would fail with the server's complaint before it learned of the cancellation.
 */
function whileStepRuns<T>(deps: ClientRequestDeps, path: string, work: () => Promise<T>): Promise<T> {
  return CancellationScope.nonCancellable(() => untilStepEnds(deps, path, work));
}

async function untilStepEnds<T>(deps: ClientRequestDeps, path: string, work: () => Promise<T>): Promise<T> {
  const scope = new CancellationScope();
  let done = false;
  void condition(() => done || !deps.isRunning(path)).then(() => {
    if (!done) scope.cancel();
  });
  try {
    return await scope.run(work);
  } finally {
    done = true;
  }
}

function preview(messages: LlmMessage[]): string {
  const text = messages.map((m) => `${m.role}: ${m.content}`).join('\n');
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
}

/** Registers the two update handlers; the ids they give count per step, in history order. */
export function listenForClientRequests(deps: ClientRequestDeps): void {
  const counts = new Map<string, number>();
  const nextId = (step: string, part: string) => {
    const n = (counts.get(step + part) ?? 0) + 1;
    counts.set(step + part, n);
    return `${step}${part}${n}`;
  };

  const elicit = async (ask: ElicitationAsk): Promise<ElicitationAnswer> => {
    const decision = await deps.requestApproval(
      ask.step,
      {
        prompt: `The MCP server "${ask.server}" asks: ${ask.message}`,
        approvers: ask.approvers,
        timeoutMs: ask.timeoutMs,
        onTimeout: 'reject',
        choices: [CANCEL_CHOICE],
        input: { requestedSchema: ask.requestedSchema },
        server: ask.server,
      },
      nextId(ask.step, INPUT_APPROVAL_PART),
    );
    if (decision.timedOut) return { action: 'decline', by: decision.by };
    if (decision.decision === 'approve') return { action: 'accept', content: decision.content ?? {}, by: decision.by };
    return { action: decision.choice === CANCEL_CHOICE ? 'cancel' : 'decline', by: decision.by };
  };

  const sample = async (ask: SamplingAsk): Promise<SamplingAnswer> => {
    if (ask.approve) {
      const decision = await deps.requestApproval(
        ask.step,
        {
          prompt: `The MCP server "${ask.server}" asks the model "${ask.model}" (up to ${ask.maxTokens} tokens):\n${preview(ask.messages)}`,
          approvers: ask.approve.approvers,
          timeoutMs: ask.approve.timeoutMs,
          onTimeout: 'reject',
          server: ask.server,
        },
        nextId(ask.step, SAMPLING_APPROVAL_PART),
      );
      if (decision.decision !== 'approve') {
        const why = decision.timedOut ? 'nobody approved it in time' : `${decision.by} rejected it`;
        return { ok: false, reason: 'rejected', message: `the sampling request was not sent: ${why}` };
      }
    }
    try {
      const response = await callModel(
        deps.ledgerFor(ask.step),
        {
          model: ask.model,
          messages: ask.messages,
          maxTokens: ask.maxTokens,
          ...(ask.temperature !== undefined && { temperature: ask.temperature }),
        },
        { summary: `${ask.step}: sampling for ${ask.server}` },
      );
      const { model, text, finishReason, usage } = response;
      return { ok: true, response: { model, text, finishReason, usage } };
    } catch (err) {
      if (CancellationScope.current().consideredCancelled) throw err;
      return { ok: false, reason: 'failed', message: errorMessage(err) };
    }
  };

  setHandler(mcpElicitationUpdate, (ask) => whileStepRuns(deps, ask.step, () => elicit(ask)), {
    description: 'An MCP server asks a person for input during a tool call (sent by the tool activity)',
    validator: (ask) => refuseUnlessRunning(deps, ask, 'elicitation'),
  });
  setHandler(mcpSamplingUpdate, (ask) => whileStepRuns(deps, ask.step, () => sample(ask)), {
    description: "An MCP server asks the run's model for a message during a tool call (sent by the tool activity)",
    validator: (ask) => refuseUnlessRunning(deps, ask, 'sampling'),
  });
}
