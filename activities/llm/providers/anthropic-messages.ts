/** Anthropic's messages API through the official SDK. */
import Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  MessageCreateParamsNonStreaming,
  MessageParam,
  Tool,
  ToolChoice,
} from '@anthropic-ai/sdk/resources/messages';
import type { FinishReason, LlmMessage, LlmOutputSchema } from '../../../workflows/contracts/llm';
import { ProviderError, type ChatProvider, type ProviderCall, type ProviderReply } from './provider';
import { clientCache, problemOf } from './sdk';

export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

/** System text apart; tool results are user turns; consecutive turns of one role merge. */
function toMessages(messages: LlmMessage[]): { system: string; messages: MessageParam[] } {
  const system: string[] = [];
  const out: Array<{ role: 'user' | 'assistant'; content: ContentBlockParam[] }> = [];
  const push = (role: 'user' | 'assistant', blocks: ContentBlockParam[]) => {
    const last = out[out.length - 1];
    if (last?.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of messages) {
    if (m.role === 'system') system.push(m.content);
    else if (m.role === 'user') push('user', [{ type: 'text', text: m.content }]);
    else if (m.role === 'tool') {
      push('user', [
        { type: 'tool_result', tool_use_id: m.toolCallId, content: m.content, ...(m.isError && { is_error: true }) },
      ]);
    } else {
      const blocks: ContentBlockParam[] = m.content ? [{ type: 'text', text: m.content }] : [];
      for (const c of m.toolCalls ?? [])
        blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.arguments ?? {} });
      push('assistant', blocks);
    }
  }
  return { system: system.join('\n\n'), messages: out };
}

/** Anthropic takes structured output as a tool it must call; its input schema has to be an object. */
function respondTool(schema: LlmOutputSchema): { tool: Tool; wrapped: boolean } {
  const wrapped = schema.schema.type !== 'object';
  const input = wrapped ? { type: 'object', properties: { value: schema.schema }, required: ['value'] } : schema.schema;
  return {
    tool: {
      name: schema.name ?? 'output',
      description: 'Give your answer by calling this tool with it.',
      input_schema: input as Tool['input_schema'],
    },
    wrapped,
  };
}

const FINISH: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

export class AnthropicMessagesProvider implements ChatProvider {
  private readonly client = clientCache((options) => new Anthropic(options));

  async chat({ provider, model, request, apiKey, signal, timeoutMs }: ProviderCall): Promise<ProviderReply> {
    const { system, messages } = toMessages(request.messages);
    const tools: Tool[] = (request.tools ?? []).map((t) => ({
      name: t.name,
      ...(t.description !== undefined && { description: t.description }),
      input_schema: t.parameters as Tool['input_schema'],
    }));
    let toolChoice: ToolChoice | undefined = tools.length ? { type: request.toolChoice ?? 'auto' } : undefined;
    let systemText = system;
    let respond: ReturnType<typeof respondTool> | undefined;
    if (request.schema && tools.length === 0) {
      respond = respondTool(request.schema);
      tools.push(respond.tool);
      toolChoice = { type: 'tool', name: respond.tool.name };
    } else if (request.schema) {
      // With tools to call, the final answer comes as text; the activity validates it.
      systemText += `${systemText ? '\n\n' : ''}When you give your final answer (without calling a tool), reply with only a JSON value that matches this JSON Schema:\n${JSON.stringify(request.schema.schema)}`;
    }
    const temperature = request.temperature ?? model.temperature;
    const body: MessageCreateParamsNonStreaming = {
      model: model.model,
      max_tokens: request.maxTokens ?? model.maxTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
      messages,
      ...(systemText && { system: systemText }),
      ...(tools.length && { tools }),
      ...(toolChoice && { tool_choice: toolChoice }),
      ...(temperature !== undefined && { temperature }),
    };
    let message;
    try {
      message = await this.client(provider, apiKey).messages.create(body, { signal, timeout: timeoutMs });
    } catch (err) {
      throw problemOf(err, Anthropic);
    }
    if (!Array.isArray(message?.content))
      throw new ProviderError({ kind: 'malformed', message: 'response has no content list' });
    let object: unknown;
    const reply: ProviderReply = {
      providerModel: message.model ?? model.model,
      text: '',
      toolCalls: [],
      finishReason: FINISH[message.stop_reason ?? ''] ?? 'other',
      inputTokens:
        (message.usage?.input_tokens ?? 0) +
        (message.usage?.cache_creation_input_tokens ?? 0) +
        (message.usage?.cache_read_input_tokens ?? 0),
      outputTokens: message.usage?.output_tokens ?? 0,
    };
    for (const block of message.content) {
      if (block.type === 'text') reply.text += block.text;
      else if (block.type === 'tool_use' && respond && block.name === respond.tool.name) {
        object = respond.wrapped ? (block.input as { value?: unknown }).value : block.input;
      } else if (block.type === 'tool_use') {
        const input = block.input;
        reply.toolCalls.push(
          input !== null && typeof input === 'object' && !Array.isArray(input)
            ? { id: block.id, name: block.name, arguments: input as Record<string, unknown> }
            : { id: block.id, name: block.name, arguments: null, argumentsError: 'tool input is not an object' },
        );
      }
    }
    if (respond) {
      reply.finishReason = reply.finishReason === 'tool_calls' ? 'stop' : reply.finishReason;
      if (object !== undefined) reply.object = object;
    }
    return reply;
  }
}
