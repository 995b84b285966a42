import type { MetricMeter } from '@temporalio/common';
import { LLM_COST_METRIC, LLM_TOKENS_METRIC } from '../../workflows/contracts/metrics';
import type { LlmModelConfig } from '../llm/config/types';

/**
 * Counts one model reply's tokens and cost under the configured model name (a bounded set),
 * as it arrives: a reply a later repair or failure discards was still paid for.
 */
export function recordModelReply(
  meter: MetricMeter,
  model: LlmModelConfig,
  reply: { inputTokens: number; outputTokens: number },
): void {
  const tokens = meter.createCounter(LLM_TOKENS_METRIC, 'tokens', 'Model tokens, by model and direction');
  tokens.add(reply.inputTokens, { model: model.name, direction: 'input' });
  tokens.add(reply.outputTokens, { model: model.name, direction: 'output' });
  const costUsd = (reply.inputTokens * model.price.inputPerMTok + reply.outputTokens * model.price.outputPerMTok) / 1e6;
  meter
    .createHistogram(LLM_COST_METRIC, 'float', 'USD', "Each model reply's cost; _sum is the spend, by model")
    .record(costUsd, { model: model.name });
}
