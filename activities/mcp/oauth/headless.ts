import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { StoredOAuthProvider } from './provider';

type HttpTransport = StreamableHTTPClientTransport | SSEClientTransport;

/**
 * `headless`: when the SDK stops a message for an authorization (a 401 without usable tokens, or
 * a 403 asking for more scope), the provider has already followed the authorization URL and
 * holds the code; it is exchanged here and the message sent again. Works at connect and
 * mid-session alike, since every message goes through `send`.
 */
export function completingHeadlessAuth<T extends HttpTransport>(transport: T, oauth: StoredOAuthProvider): T {
  const plain: Transport = transport;
  const send = plain.send.bind(transport);
  plain.send = async (message, options) => {
    try {
      return await send(message, options);
    } catch (err) {
      const code = err instanceof UnauthorizedError ? oauth.takePendingCode() : undefined;
      if (code === undefined) throw err;
      await transport.finishAuth(code);
      return send(message, options);
    }
  };
  return transport;
}
