/**
 * The `llmChat` activity: one model call (plus the repairs structured output may need) with any
 * configured model. Keys rotate on 429; when every key is limited the attempt fails with the
 * provider's retry-after as Temporal's next retry delay. It heartbeats while the provider works,
 * and a cancelled step aborts the HTTP request.
 */
import { Context } from '@temporalio/activity';
import {
  addUsage,
  asUsage,
  ZERO_USAGE,
  type LlmActivities,
  type LlmHeartbeat,
  type LlmMessage,
  type LlmRequest,
  type LlmResponse,
  type Usage,
} from '../../workflows/contracts/llm';
import type { LlmConfig, LlmModelConfig, LlmProviderConfig, ProviderType } from './config/types';
import { llmFailure, toLlmFailure } from './failures';
import { KeyRing } from './key-ring';
import { AnthropicMessagesProvider } from './providers/anthropic-messages';
import { OpenAiChatProvider } from './providers/openai-chat';
import { ProviderError, type ChatProvider, type ProviderReply } from './providers/provider';
import { retryAfterMs } from './retry-after';
import { checkOutput, repairPrompt, validatorFor } from './structured-output';
import { recordModelReply } from '../metrics/llm-metrics';

export interface LlmActivityDeps {
  config: LlmConfig;
  /** Wait after a 429 that names no retry-after. */
  defaultRetryAfterMs?: number;
  now?: () => number;
}

export const DEFAULT_MAX_REPAIRS = 2;

/** Priced from the summed tokens, so repairs do not add rounding error. */
function withReply(model: LlmModelConfig, usage: Usage, reply: ProviderReply): Usage {
  const inputTokens = usage.inputTokens + reply.inputTokens;
  const outputTokens = usage.outputTokens + reply.outputTokens;
  const costUsd = (inputTokens * model.price.inputPerMTok + outputTokens * model.price.outputPerMTok) / 1e6;
  return { inputTokens, outputTokens, costUsd, calls: usage.calls + 1 };
}

function heartbeatEveryMs(heartbeatTimeoutMs: number | undefined): number {
  return Math.max(100, Math.min(1000, (heartbeatTimeoutMs ?? 2000) / 2));
}

export function createLlmActivities(deps: LlmActivityDeps) {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const rings = new Map<string, KeyRing>();
  const providers: Record<ProviderType, ChatProvider> = {
    openai: new OpenAiChatProvider(),
    anthropic: new AnthropicMessagesProvider(),
  };
  const ringOf = (p: LlmProviderConfig): KeyRing => {
    let ring = rings.get(p.name);
    if (!ring) rings.set(p.name, (ring = new KeyRing(Math.max(1, p.keys.length), now)));
    return ring;
  };

  const modelOf = (name: string): { model: LlmModelConfig; provider: LlmProviderConfig } => {
    const model = config.models[name];
    if (!model) {
      const known = Object.keys(config.models);
      throw llmFailure(
        'LlmUnknownModel',
        known.length
          ? `unknown model "${name}" (${config.source} defines: ${known.join(', ')})`
          : `unknown model "${name}": no models are configured on this worker (set LLM_MODELS_FILE; see the README, "Models, agents and the built-in orchestrations")`,
        { nonRetryable: true },
      );
    }
    const provider = config.providers[model.provider] as LlmProviderConfig;
    if (provider.disabled)
      throw llmFailure('LlmModelUnavailable', `model "${name}": ${provider.disabled}`, { nonRetryable: true });
    return { model, provider };
  };

  const keyName = (p: LlmProviderConfig, index: number) =>
    p.keys.length ? `key #${index + 1} of ${p.keyEnv.join('/')}` : 'no key';

  return {
    async llmChat(request: LlmRequest): Promise<LlmResponse> {
      const ctx = Context.current();
      const { model, provider } = modelOf(request.model);
      const ring = ringOf(provider);
      const carried = ctx.info.heartbeatDetails as Partial<LlmHeartbeat> | undefined;
      if (carried?.provider === provider.name && Array.isArray(carried.limitedUntil)) ring.merge(carried.limitedUntil);
      // What earlier attempts of this call spent; this attempt's answer or failure reports it too.
      const spentBefore = asUsage(carried?.spent) ?? ZERO_USAGE;
      let usage = ZERO_USAGE;
      const spent = () => addUsage(spentBefore, usage);
      const beat = () =>
        ctx.heartbeat({
          provider: provider.name,
          limitedUntil: ring.snapshot(),
          spent: spent(),
        } satisfies LlmHeartbeat);
      beat();
      const timer = setInterval(beat, heartbeatEveryMs(ctx.info.heartbeatTimeoutMs));
      const deadline = now() + (ctx.info.startToCloseTimeoutMs || 600_000);
      let where = `${provider.name}/${model.model}`;

      const callOnce = async (messages: LlmMessage[]): Promise<{ reply: ProviderReply; keyIndex: number }> => {
        for (;;) {
          const index = ring.pick();
          if (index === undefined) {
            const waitMs = Math.max(1, ring.waitMs());
            throw llmFailure(
              'LlmRateLimited',
              `${provider.name}/${model.model}: every key is rate limited (${Math.max(1, provider.keys.length)} tried); retrying in ${waitMs} ms`,
              { nonRetryable: false, usage: spent(), nextRetryDelayMs: waitMs, details: { retryAfterMs: waitMs } },
            );
          }
          where = `${provider.name}/${model.model} (${keyName(provider, index)})`;
          try {
            const reply = await providers[provider.type].chat({
              provider,
              model,
              request: { ...request, messages },
              apiKey: provider.keys[index],
              signal: ctx.cancellationSignal,
              timeoutMs: Math.max(1000, deadline - now()),
            });
            return { reply, keyIndex: index };
          } catch (err) {
            if (!(err instanceof ProviderError) || err.problem.kind !== 'http' || err.problem.status !== 429) throw err;
            ring.limit(index, now() + retryAfterMs(err.problem.headers, now(), deps.defaultRetryAfterMs ?? 1000));
            beat();
          }
        }
      };

      try {
        const schema = request.schema;
        let validate;
        if (schema) {
          try {
            validate = validatorFor(schema.schema);
          } catch (err) {
            throw llmFailure('LlmBadRequest', `schema is not a valid JSON Schema: ${(err as Error).message}`, {
              nonRetryable: true,
            });
          }
        }
        const maxRepairs = request.maxRepairs ?? DEFAULT_MAX_REPAIRS;
        let messages = request.messages;
        for (let repairs = 0; ; repairs++) {
          const { reply, keyIndex } = await callOnce(messages);
          usage = withReply(model, usage, reply);
          recordModelReply(ctx.metricMeter, model, reply);
          // At once, so a worker lost before this attempt ends still leaves the spend on record.
          beat();
          const response = (object?: unknown): LlmResponse => ({
            model: model.name,
            provider: provider.name,
            providerModel: reply.providerModel,
            text: reply.text,
            ...(object !== undefined && { object }),
            toolCalls: reply.toolCalls,
            finishReason: reply.finishReason,
            usage: spent(),
            repairs,
            keyIndex,
          });
          // A turn that calls tools is not the final answer; only that one must match the schema.
          if (!schema || !validate || reply.toolCalls.length) return response();
          const check = checkOutput(reply, validate);
          if (check.ok) return response(check.value);
          if (repairs >= maxRepairs) {
            throw llmFailure(
              'LlmInvalidOutput',
              `${model.name}: the reply still does not match the schema after ${repairs} repair(s): ${check.errors.join('; ')}`,
              {
                nonRetryable: true,
                usage: spent(),
                details: { errors: check.errors, output: check.raw.slice(0, 2000) },
              },
            );
          }
          messages = [
            ...messages,
            { role: 'assistant', content: check.raw },
            { role: 'user', content: repairPrompt(check.errors, schema.schema) },
          ];
        }
      } catch (err) {
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        throw toLlmFailure(err, where, spent());
      } finally {
        clearInterval(timer);
      }
    },
  } satisfies LlmActivities;
}

export type LlmActivityFunctions = ReturnType<typeof createLlmActivities>;
