import type { LlmConfig } from '../activities/llm/config/types';

/** One start-up line: the models this worker can call, or that it has none and what that means. */
export function describeModels(llm: LlmConfig | undefined): string {
  const models = Object.values(llm?.models ?? {});
  if (!llm || models.length === 0) {
    return (
      'no models configured (LLM_MODELS_FILE unset): llm, agent, research and swarm steps cannot run; ' +
      'see the README, "Models, agents and the built-in orchestrations"'
    );
  }
  const names = models.map((m) => {
    const off = llm.providers[m.provider]?.disabled;
    return `${m.name} (${m.provider} ${m.model}${off ? ', unavailable: no API key' : ''})`;
  });
  return `models from ${llm.source}: ${names.join(', ')}`;
}
