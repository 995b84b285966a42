/**
 * Which task queue a model's calls go to. A provider with limits has a queue of its own
 * (activities/llm/route.ts) whose rate the Temporal server enforces across every worker; only the
 * worker's models config knows a model's provider, so a run asks once per model (a local
 * activity: one marker in history) and keeps the answer for the rest of the run.
 *
 * Its own patch, not one of those RUN_PATCH stands for: runs holding RUN_PATCH were recorded
 * without these markers, so answering this patch from RUN_PATCH would break their replay.
 */
import { patched, proxyLocalActivities } from '@temporalio/workflow';
import type { LlmRoute, LlmRouteActivities } from '../contracts/llm';

export const LLM_PROVIDER_QUEUES_PATCH = 'llm-provider-queues';

// Module state lives per workflow run (as runCatalogue's in steps/tool.ts).
const routes = new Map<string, Promise<LlmRoute>>();

function askRoute(model: string): Promise<LlmRoute> {
  const known = routes.get(model);
  if (known) return known;
  const { llmRouteFor } = proxyLocalActivities<LlmRouteActivities>({
    startToCloseTimeout: '10s',
    retry: { maximumAttempts: 5, initialInterval: '1s' },
    summary: `route of model ${model}`,
  });
  const pending = llmRouteFor(model);
  routes.set(model, pending);
  // A failed lookup (a worker without the activity) is asked again by the next call.
  pending.catch(() => {
    if (routes.get(model) === pending) routes.delete(model);
  });
  return pending;
}

/**
 * The route of `model`'s calls, or undefined without asking in runs recorded before provider
 * queues: synchronous then, so those runs replay their model calls tick for tick.
 */
export function modelRoute(model: string): Promise<LlmRoute> | undefined {
  return patched(LLM_PROVIDER_QUEUES_PATCH) ? askRoute(model) : undefined;
}
