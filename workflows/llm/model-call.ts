/**
 * One model call from a workflow: pass the budget gates, run the `llmChat` activity (its result is
 * the history's record of the call), charge the ledger — also for tokens a failed call spent. The
 * activity sums its attempts (heartbeat details), so its answer or final failure carries what every
 * attempt spent, retried ones included. The call runs on its provider's task queue when the
 * provider has limits (provider-route.ts).
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  TimeoutFailure,
  type ActivityInterfaceFor,
} from '@temporalio/workflow';
import { toRetryPolicy } from '../spec/common';
import { type RetrySpec } from '../contracts/spec';
import { durationToMs, type Duration } from '../contracts/duration';
import type { StepLedger } from './ledger';
import { modelRoute } from './provider-route';
import {
  asUsage,
  type LlmActivities,
  type LlmHeartbeat,
  type LlmRequest,
  type LlmResponse,
  type Usage,
} from '../contracts/llm';

export interface ModelCallOptions {
  /** Longest one call may take, all repairs included (startToCloseTimeout). */
  timeout?: Duration;
  /** The activity heartbeats while it waits for the provider; a lost worker is noticed after this. */
  heartbeatTimeout?: Duration;
  retry?: RetrySpec;
}

export const DEFAULT_LLM_TIMEOUT = '10m';
export const DEFAULT_LLM_HEARTBEAT_TIMEOUT = '10s';
/** Rate limits override the interval with the provider's retry-after (nextRetryDelay). */
export const DEFAULT_LLM_RETRY: RetrySpec = {
  maxAttempts: 8,
  initialInterval: '1s',
  backoffCoefficient: 2,
  maxInterval: '1m',
};

/** What a failed call spent: in the failure's details, or in the last heartbeat of a timed-out attempt. */
export function spentBy(err: unknown): Usage | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return asUsage((cause.details?.[0] as { usage?: unknown } | null)?.usage);
  if (cause instanceof TimeoutFailure) return asUsage((cause.lastHeartbeatDetails as Partial<LlmHeartbeat>)?.spent);
  return undefined;
}

/**
 * Gates, runs one model activity with the model-call options and charges what it spent — also
 * when it fails. `callModel` and the agent's stored-conversation turn both go through here.
 */
export async function chargedModelCall<A extends object, R extends { usage: Usage }>(
  ledger: StepLedger,
  opts: ModelCallOptions & { summary: string; model: string },
  call: (activities: ActivityInterfaceFor<A>) => Promise<R>,
): Promise<R> {
  await ledger.gate();
  const route = modelRoute(opts.model);
  const taskQueue = route && (await route).taskQueue;
  const activities = proxyActivities<A>({
    startToCloseTimeout: durationToMs(opts.timeout ?? DEFAULT_LLM_TIMEOUT),
    heartbeatTimeout: durationToMs(opts.heartbeatTimeout ?? DEFAULT_LLM_HEARTBEAT_TIMEOUT),
    retry: toRetryPolicy(opts.retry ?? DEFAULT_LLM_RETRY),
    summary: opts.summary,
    // Cancelling the step aborts the HTTP request; the step reports cancelled once it has.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // The provider's own queue, where its limits hold across workers; else the run's queue.
    ...(taskQueue !== undefined && { taskQueue }),
  });
  try {
    const response = await call(activities);
    ledger.charge(response.usage);
    return response;
  } catch (err) {
    const spent = spentBy(err);
    if (spent && spent.calls > 0) ledger.charge(spent);
    throw err;
  }
}

export function callModel(
  ledger: StepLedger,
  request: LlmRequest,
  opts: ModelCallOptions & { summary: string },
): Promise<LlmResponse> {
  return chargedModelCall<LlmActivities, LlmResponse>(ledger, { ...opts, model: request.model }, (a) =>
    a.llmChat(request),
  );
}
