/**
 * Per-provider task queues: a provider with `limits` in the models config gets a queue of its own
 * next to the orchestrator's, which every orchestrator worker polls with the same rate limit
 * (maxTaskQueueActivitiesPerSecond, enforced by the Temporal server for all pollers together)
 * and its own slot count. Workflows ask `llmRouteFor` (a local activity, once per model per run)
 * where a model's calls go; models of unlimited or unknown providers stay on the orchestrator's
 * queue.
 */
import type { LlmRoute, LlmRouteActivities } from '../../workflows/contracts/llm';
import type { LlmConfig, LlmProviderConfig, ProviderLimits } from './config/types';

/** `<orchestrator queue>-llm-<provider>`: provider names are already safe in a queue name. */
export function providerTaskQueue(orchestratorQueue: string, provider: string): string {
  return `${orchestratorQueue}-llm-${provider}`;
}

/** Providers whose calls run on a queue of their own: those with limits that can be called at all. */
export function limitedProviders(config: LlmConfig): Array<LlmProviderConfig & { limits: ProviderLimits }> {
  return Object.values(config.providers).filter(
    (p): p is LlmProviderConfig & { limits: ProviderLimits } => p.limits !== undefined && !p.disabled,
  );
}

export function createLlmRouteActivities(config: LlmConfig, orchestratorQueue: string): LlmRouteActivities {
  const limited = new Set(limitedProviders(config).map((p) => p.name));
  return {
    llmRouteFor(model: string): Promise<LlmRoute> {
      const provider = config.models[model]?.provider;
      // An unknown model keeps the old queue, where llmChat names the problem.
      const route =
        provider !== undefined && limited.has(provider)
          ? { taskQueue: providerTaskQueue(orchestratorQueue, provider) }
          : {};
      return Promise.resolve(route);
    },
  };
}
