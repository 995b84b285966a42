/**
 * The agent loop's conversation kept in the blob store (see workflows/llm/conversation.ts): a
 * turn loads the chain of nodes its reference names, adds the new messages, stores the result as
 * a new node (content-addressed: a retried turn writes nothing new), asks the model through
 * `llmChat` and stores the reply as one more node. Tool results are stored the same way, so
 * neither the conversation nor any tool output travels through workflow history.
 */
import { ApplicationFailure } from '@temporalio/common';
import { toolResultText, type ToolCallInput, type ToolOutput } from '../../workflows/contracts/tool';
import type {
  LlmMessage,
  LlmRequest,
  LlmResponse,
  LlmToolSpec,
  AgentToolCallInput,
  AppendedMessage,
  ConversationActivities,
  LlmTurnRequest,
  LlmTurnResponse,
  StoredToolResult,
} from '../../workflows/contracts/llm';
import type { BlobRef } from '../../workflows/contracts/blobs';
import { ContentStore } from '../blobs/content-store';

/** The same files as the blob store's (JSON under its sha256), so either side can read a node. */
const EXTENSION = '.json';
const DEFAULT_CACHE_ENTRIES = 64;

/** One stored node: the messages one turn added, after the conversation `prev` names. */
interface ConversationNode {
  prev: BlobRef | null;
  messages: LlmMessage[];
  /** The tools the conversation declares, on the node of the turn that declared them. */
  tools?: LlmToolSpec[];
}

interface Loaded {
  messages: LlmMessage[];
  tools?: LlmToolSpec[];
}

export interface ConversationActivityDeps {
  /** The blob store's directory (BLOB_STORE_DIR). */
  dir: string;
  llmChat(request: LlmRequest): Promise<LlmResponse>;
  /** Without it (no MCP pool), `agentCallTool` fails every call, naming the missing pool. */
  mcpCallTool?(input: ToolCallInput): Promise<ToolOutput>;
  /** Conversations kept in memory, so a loop's next turn reads one node instead of the chain. */
  cacheEntries?: number;
}

export function createConversationActivities(deps: ConversationActivityDeps) {
  const store = new ContentStore(deps.dir);
  const cache = new Map<string, Loaded>();
  const maxEntries = deps.cacheEntries ?? DEFAULT_CACHE_ENTRIES;

  const remember = (ref: BlobRef, loaded: Loaded): void => {
    cache.delete(ref.sha256);
    cache.set(ref.sha256, loaded);
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
  };

  const put = async (value: unknown): Promise<BlobRef> => {
    const { sha256, bytes } = await store.put(Buffer.from(JSON.stringify(value), 'utf8'), EXTENSION);
    return { sha256, bytes };
  };

  const get = async (ref: BlobRef): Promise<unknown> => {
    const data = await store.get(ref.sha256, EXTENSION);
    if (!data) {
      // Retryable: on a host without the file another worker may have it; the workflow caps the attempts.
      throw ApplicationFailure.retryable(
        `conversation blob ${ref.sha256} (${ref.bytes} bytes) is not in ${store.dir}: workers on several hosts ` +
          'need BLOB_STORE_DIR on a shared volume',
        'BlobMissing',
      );
    }
    return JSON.parse(data.toString('utf8')) as unknown;
  };

  /** The whole conversation `ref` names: nodes are read back to the first one, or to one in memory. */
  const load = async (ref: BlobRef): Promise<Loaded> => {
    const chain: ConversationNode[] = [];
    let base: Loaded = { messages: [] };
    for (let at: BlobRef | null = ref; at;) {
      const known = cache.get(at.sha256);
      if (known) {
        base = known;
        break;
      }
      const node = (await get(at)) as ConversationNode;
      chain.push(node);
      at = node.prev;
    }
    let loaded = base;
    for (const node of chain.reverse()) {
      loaded = { messages: [...loaded.messages, ...node.messages], tools: node.tools ?? loaded.tools };
    }
    remember(ref, loaded);
    return loaded;
  };

  /** Stores `messages` after `prev` and returns the new node's reference. */
  const extend = async (
    prev: BlobRef | undefined,
    before: Loaded,
    messages: LlmMessage[],
    tools?: LlmToolSpec[],
  ): Promise<{ ref: BlobRef; loaded: Loaded }> => {
    const node: ConversationNode = { prev: prev ?? null, messages, ...(tools && { tools }) };
    const ref = await put(node);
    const loaded = { messages: [...before.messages, ...messages], tools: tools ?? before.tools };
    remember(ref, loaded);
    return { ref, loaded };
  };

  const resolve = async (m: AppendedMessage): Promise<LlmMessage> =>
    'stored' in m ? ((await get(m.stored)) as LlmMessage) : m;

  return {
    async llmChatTurn(request: LlmTurnRequest): Promise<LlmTurnResponse> {
      const { conversation: prev, append, tools: declared, ...rest } = request;
      const before = prev ? await load(prev) : { messages: [] };
      const added = await Promise.all(append.map(resolve));
      const sent = await extend(prev, before, added, declared);
      const tools = sent.loaded.tools ?? [];
      const response = await deps.llmChat({
        ...rest,
        messages: sent.loaded.messages,
        ...(tools.length ? { tools } : { toolChoice: undefined }),
      });
      if (response.toolCalls.length === 0) return { ...response, conversation: sent.ref };
      // The loop goes on from here when it runs the calls (it drops the reply when it must conclude).
      const reply: LlmMessage = { role: 'assistant', content: response.text, toolCalls: response.toolCalls };
      const withReply = await extend(sent.ref, sent.loaded, [reply]);
      return { ...response, conversation: sent.ref, withReply: withReply.ref };
    },

    async agentCallTool(input: AgentToolCallInput): Promise<StoredToolResult> {
      if (!deps.mcpCallTool) {
        throw ApplicationFailure.nonRetryable(
          `tool ${input.server}.${input.tool}: this worker has no MCP client pool`,
          'McpUnavailable',
        );
      }
      const { toolCallId, name, maxResultChars, ...call } = input;
      const out = await deps.mcpCallTool(call);
      const content = toolResultText(out, maxResultChars);
      const message: LlmMessage = { role: 'tool', toolCallId, name, content };
      return { stored: await put(message), chars: content.length };
    },
  } satisfies ConversationActivities;
}

export type ConversationActivityFunctions = ReturnType<typeof createConversationActivities>;
