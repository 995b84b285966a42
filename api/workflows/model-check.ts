/**
 * At submit, the models a spec names must exist in the models config the workers share
 * (LLM_MODELS_FILE / LLM_MODELS_JSON), so a typo is a 400 naming the step instead of a run that
 * fails at its first model call.
 */
import type { LlmConfig } from '../../activities/llm/config/types';
import { modelsNamedBy } from '../../workflows/llm/models-named';
import type { Spec } from '../../workflows/contracts/spec';
import type { FieldIssue } from '../../workflows/spec/schema';

export const MODELS_README_SECTION = 'README, "Models, agents and the built-in orchestrations"';

export function modelIssues(
  spec: Spec,
  inputs: Record<string, unknown>,
  childSpecs: Record<string, Spec>,
  llm: LlmConfig,
  base = 'spec',
): FieldIssue[] {
  const known = Object.keys(llm.models);
  const uses = [
    ...modelsNamedBy(spec, inputs, base),
    ...Object.entries(childSpecs).flatMap(([name, child]) => modelsNamedBy(child, {}, `childSpecs.${name}`)),
  ];
  const issues: FieldIssue[] = [];
  for (const { field, stepId, model } of uses) {
    const config = llm.models[model];
    const disabled = config && llm.providers[config.provider]?.disabled;
    if (config && !disabled) continue;
    const why = disabled
      ? disabled
      : known.length
        ? `no such model in ${llm.source} (defined: ${known.join(', ')})`
        : `no models are configured (set LLM_MODELS_FILE; see the ${MODELS_README_SECTION})`;
    issues.push({ path: `${field}.model`, message: `step "${stepId}" names model "${model}": ${why}` });
  }
  return issues;
}
