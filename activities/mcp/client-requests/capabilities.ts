/**
 * The client capabilities a connection declares and the handlers behind them, from the server's
 * config: elicitation and sampling only where allowed, roots only where configured. Every pool
 * connection built from config gets them (tool activities, the conformance runner alike).
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  ListRootsRequestSchema,
  McpError,
  type ClientCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from '../config/types';
import type { CallRouter } from './router';

export function clientCapabilities(server: McpServerConfig): ClientCapabilities {
  const c = server.clientRequests;
  return {
    // Form mode only: a URL-mode request (a browser flow) has no place in a run.
    ...(c?.elicitation && { elicitation: { form: { applyDefaults: true } } }),
    ...(c?.sampling && { sampling: {} }),
    ...(c?.roots && { roots: { listChanged: false } }),
  };
}

/** Installs the handlers of the capabilities `clientCapabilities` declared (call before connect). */
export function installClientRequestHandlers(client: Client, server: McpServerConfig, router: CallRouter): void {
  const c = server.clientRequests;
  if (c?.roots) {
    const roots = c.roots;
    client.setRequestHandler(ListRootsRequestSchema, () => ({ roots }));
  }
  if (c?.elicitation) {
    client.setRequestHandler(ElicitRequestSchema, (request, extra) => {
      const params = request.params;
      if (params.mode === 'url' || !('requestedSchema' in params))
        throw new McpError(ErrorCode.InvalidParams, 'only form-mode elicitation is supported');
      const handlers = router.current(server.name, 'elicitation/create');
      if (!handlers.elicit)
        throw new McpError(ErrorCode.InvalidRequest, 'elicitation/create refused: this call takes no input');
      return handlers.elicit(params, extra.signal);
    });
  }
  if (c?.sampling) {
    client.setRequestHandler(CreateMessageRequestSchema, (request, extra) => {
      const handlers = router.current(server.name, 'sampling/createMessage');
      if (!handlers.sample)
        throw new McpError(ErrorCode.InvalidRequest, 'sampling/createMessage refused: this call has no model');
      return handlers.sample(request.params, extra.signal);
    });
  }
}
