/**
 * Reads the models config at worker start: `LLM_MODELS_FILE` (a models.json) or `LLM_MODELS_JSON`
 * (the same, inline), `${VAR}` / `${VAR:-default}` expanded from the environment, API keys read
 * from the variables each provider names. Every problem names the file and key.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expandVariables } from '../../mcp/config/variables';
import type { ConfigProblem } from '../../mcp/config/keys';
import { ConfigError, parseConfig } from '../../../config/config-errors';
import { modelsFileSchema, type ModelsFile } from './schema';
import { EMPTY_LLM_CONFIG, type LlmConfig, type LlmModelConfig, type LlmProviderConfig } from './types';

export const DEFAULT_MODELS_FILE = 'models.json';

interface Source {
  name: string;
  raw: unknown;
}

function readSource(env: NodeJS.ProcessEnv, cwd: string): Source | undefined {
  const file = env.LLM_MODELS_FILE;
  const inline = env.LLM_MODELS_JSON;
  if (file && inline) {
    throw new ConfigError('environment', [
      { key: 'LLM_MODELS_JSON', message: 'set LLM_MODELS_FILE or LLM_MODELS_JSON, not both' },
    ]);
  }
  if (inline)
    return {
      name: 'environment variable LLM_MODELS_JSON',
      raw: parseJson(inline, 'environment variable LLM_MODELS_JSON'),
    };
  const location = path.resolve(cwd, file ?? DEFAULT_MODELS_FILE);
  if (!existsSync(location)) {
    if (file) throw new ConfigError('environment', [{ key: 'LLM_MODELS_FILE', message: `${location} does not exist` }]);
    return undefined;
  }
  return { name: location, raw: parseJson(readFileSync(location, 'utf8'), location) };
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(source, [{ key: '(root)', message: `not valid JSON: ${(err as Error).message}` }]);
  }
}

function keysFrom(names: string[], env: NodeJS.ProcessEnv): string[] {
  return names.flatMap((n) =>
    (env[n] ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean),
  );
}

export interface LoadedLlmConfig {
  config: LlmConfig;
  /** Optional providers left out for want of keys, to be logged by the caller. */
  warnings: string[];
}

export function loadLlmConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LoadedLlmConfig {
  const source = readSource(env, cwd);
  if (!source) return { config: EMPTY_LLM_CONFIG, warnings: [] };
  const problems: ConfigProblem[] = [];
  const expanded = expandVariables(source.raw, env, [], problems);
  if (problems.length) throw new ConfigError(source.name, problems);
  const file: ModelsFile = parseConfig(modelsFileSchema, expanded, source.name);

  const warnings: string[] = [];
  const providers: Record<string, LlmProviderConfig> = {};
  for (const [name, p] of Object.entries(file.providers)) {
    const keyEnv = p.apiKeyEnv === undefined ? [] : [p.apiKeyEnv].flat();
    const keys = keysFrom(keyEnv, env);
    const provider: LlmProviderConfig = {
      name,
      type: p.type,
      ...(p.baseUrl !== undefined && { baseUrl: p.baseUrl }),
      keys,
      keyEnv,
      headers: p.headers ?? {},
      maxTokensParam: p.maxTokensParam ?? 'max_tokens',
      ...(p.limits && { limits: p.limits }),
    };
    if (keyEnv.length && keys.length === 0) {
      const message = `${keyEnv.join(' / ')} ${keyEnv.length > 1 ? 'are' : 'is'} not set (one key, or several separated by commas)`;
      if (!p.optional) problems.push({ key: `providers.${name}.apiKeyEnv`, message });
      else {
        provider.disabled = `provider "${name}" is not configured: ${message}`;
        warnings.push(`${source.name}: ${provider.disabled}; its models are unavailable`);
      }
    }
    providers[name] = provider;
  }
  const models: Record<string, LlmModelConfig> = {};
  for (const [name, m] of Object.entries(file.models)) {
    if (!providers[m.provider]) {
      problems.push({
        key: `models.${name}.provider`,
        message: `unknown provider "${m.provider}" (defined: ${Object.keys(providers).join(', ') || 'none'})`,
      });
      continue;
    }
    models[name] = {
      name,
      provider: m.provider,
      model: m.model,
      price: m.price ?? { inputPerMTok: 0, outputPerMTok: 0 },
      ...(m.maxTokens !== undefined && { maxTokens: m.maxTokens }),
      ...(m.temperature !== undefined && { temperature: m.temperature }),
    };
  }
  if (problems.length) throw new ConfigError(source.name, problems);
  return { config: { source: source.name, providers, models }, warnings };
}
