export { createLlmActivities, type LlmActivityDeps, type LlmActivityFunctions } from './activities';
export { loadLlmConfig, type LoadedLlmConfig } from './config/load';
export { EMPTY_LLM_CONFIG, type LlmConfig, type LlmModelConfig, type LlmProviderConfig } from './config/types';
