import type {
  CreateMessageRequestParams,
  CreateMessageResult,
  ElicitRequestFormParams,
  ElicitResult,
} from '@modelcontextprotocol/sdk/types.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

/** How one tool call answers what its server asks while the call runs. */
export interface ClientRequestHandlers {
  elicit?(params: ElicitRequestFormParams, signal: AbortSignal): Promise<ElicitResult>;
  sample?(params: CreateMessageRequestParams, signal: AbortSignal): Promise<CreateMessageResult>;
}

/**
 * The tool calls in flight on one connection. MCP does not say which of the client's requests a
 * server's request belongs to (over stdio nothing can), so a request is given to the one call in
 * flight; with none, or with several, it is refused rather than guessed. Servers allowed to ask
 * therefore run one call at a time unless their config says otherwise.
 */
export class CallRouter {
  private readonly calls = new Set<ClientRequestHandlers>();

  /** Registers a call's handlers until the returned function is called. */
  enter(handlers: ClientRequestHandlers): () => void {
    this.calls.add(handlers);
    return () => this.calls.delete(handlers);
  }

  /** The handlers of the only call in flight, or an McpError naming why there is no one to ask. */
  current(server: string, method: string): ClientRequestHandlers {
    if (this.calls.size === 1) return [...this.calls][0] as ClientRequestHandlers;
    const why =
      this.calls.size === 0
        ? 'no tool call is in progress on this connection'
        : `${this.calls.size} tool calls are in progress on this connection and MCP does not say which one asks (set "maxConcurrency": 1 for "${server}")`;
    throw new McpError(ErrorCode.InvalidRequest, `${method} refused: ${why}`);
  }
}
