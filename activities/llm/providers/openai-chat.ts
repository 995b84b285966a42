/** OpenAI chat completions through the official SDK: OpenAI, Ollama, vLLM, llama.cpp server, LM Studio. */
import OpenAI from 'openai';
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { FinishReason, LlmMessage } from '../../../workflows/contracts/llm';
import {
  parseToolArguments,
  ProviderError,
  type ChatProvider,
  type ProviderCall,
  type ProviderReply,
} from './provider';
import { clientCache, problemOf } from './sdk';

function toMessages(messages: LlmMessage[]): ChatCompletionMessageParam[] {
  return messages.map((m): ChatCompletionMessageParam => {
    switch (m.role) {
      case 'system':
      case 'user':
        return { role: m.role, content: m.content };
      case 'assistant':
        return {
          role: 'assistant',
          content: m.content,
          ...(m.toolCalls?.length && {
            tool_calls: m.toolCalls.map((c) => ({
              id: c.id,
              type: 'function' as const,
              function: { name: c.name, arguments: JSON.stringify(c.arguments ?? {}) },
            })),
          }),
        };
      case 'tool':
        return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    }
  });
}

const FINISH: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
};

export class OpenAiChatProvider implements ChatProvider {
  private readonly client = clientCache((options) => new OpenAI(options));

  async chat({ provider, model, request, apiKey, signal, timeoutMs }: ProviderCall): Promise<ProviderReply> {
    const maxTokens = request.maxTokens ?? model.maxTokens;
    const temperature = request.temperature ?? model.temperature;
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: model.model,
      messages: toMessages(request.messages),
      ...(request.tools?.length && {
        tools: request.tools.map((t): ChatCompletionTool => ({
          type: 'function',
          function: {
            name: t.name,
            ...(t.description !== undefined && { description: t.description }),
            parameters: t.parameters,
          },
        })),
        tool_choice: request.toolChoice ?? 'auto',
      }),
      ...(request.schema && {
        response_format: {
          type: 'json_schema',
          json_schema: { name: request.schema.name ?? 'output', schema: request.schema.schema },
        },
      }),
      ...(maxTokens !== undefined && { [provider.maxTokensParam]: maxTokens }),
      ...(temperature !== undefined && { temperature }),
    };
    let completion;
    try {
      completion = await this.client(provider, apiKey).chat.completions.create(body, { signal, timeout: timeoutMs });
    } catch (err) {
      throw problemOf(err, OpenAI);
    }
    const choice = completion?.choices?.[0];
    if (!choice?.message) throw new ProviderError({ kind: 'malformed', message: 'response has no choices[0].message' });
    const toolCalls = (choice.message.tool_calls ?? []).flatMap((c) =>
      c.type === 'function' ? [parseToolArguments(c.id, c.function.name, c.function.arguments)] : [],
    );
    return {
      providerModel: completion.model ?? model.model,
      text: choice.message.content ?? '',
      toolCalls,
      finishReason: FINISH[choice.finish_reason ?? ''] ?? 'other',
      inputTokens: completion.usage?.prompt_tokens ?? 0,
      outputTokens: completion.usage?.completion_tokens ?? 0,
    };
  }
}
