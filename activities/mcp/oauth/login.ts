/**
 * Interactive OAuth set-up for one configured server (`npm run mcp:login -- <server>`): the
 * authorization-code grant with PKCE through the MCP SDK, the browser sent back to a loopback
 * listener, the tokens stored in the server's token file, where the worker finds and refreshes
 * them. For a client-credentials server it only checks that the credentials are accepted.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { HttpServerConfig } from '../config/types';
import { listenForRedirect } from './loopback';
import { StoredOAuthProvider, type OAuthServer } from './provider';

export interface LoginOptions {
  /** Where the authorization URL and progress go (the terminal). */
  print: (line: string) => void;
  /** How long to wait for the browser's redirect. */
  timeoutMs: number;
  clientInfo?: { name: string; version: string };
}

export interface LoginResult {
  tokenFile: string;
  /** Tools the server listed with the new token: the proof that it works. */
  toolCount: number;
}

function transportFor(server: HttpServerConfig, authProvider: OAuthClientProvider) {
  const url = new URL(server.url);
  const requestInit = { headers: server.headers };
  return server.transport === 'sse'
    ? new SSEClientTransport(url, { requestInit, authProvider })
    : new StreamableHTTPClientTransport(url, { requestInit, authProvider });
}

/** Connects with `provider` and counts the server's tools. */
async function listToolsWith(server: HttpServerConfig, provider: OAuthClientProvider, o: LoginOptions) {
  const client = new Client(o.clientInfo ?? { name: 'durable-agents-login', version: '0.1.0' });
  try {
    await client.connect(transportFor(server, provider));
    return (await client.listTools()).tools.length;
  } finally {
    await client.close().catch(() => undefined);
  }
}

export async function login(server: HttpServerConfig, o: LoginOptions): Promise<LoginResult> {
  const auth = server.auth;
  if (!auth) throw new Error(`mcpServers.${server.name} has no "auth" entry: it needs no login`);
  const target: OAuthServer = { name: server.name, url: server.url, auth };
  if (auth.grant === 'client_credentials') {
    const toolCount = await listToolsWith(server, new StoredOAuthProvider(target), o);
    o.print(`"${server.name}" accepted the client credentials; the token is in ${auth.tokenFile}.`);
    return { tokenFile: auth.tokenFile, toolCount };
  }

  const listener = await listenForRedirect(auth.redirectUrl);
  try {
    const provider = new StoredOAuthProvider(target, {
      kind: 'login',
      redirectUrl: listener.redirectUrl,
      onAuthorizationUrl: (url) => {
        o.print(`Open this URL in a browser to authorize "${server.name}":`);
        o.print(url.href);
        o.print(`Waiting for the redirect to ${listener.redirectUrl} ...`);
      },
    });
    const redirect = listener.waitForCode((state) => provider.stateMatches(state), o.timeoutMs);
    redirect.catch(() => undefined); // awaited below; a failed connect must not leave it unhandled
    const client = new Client(o.clientInfo ?? { name: 'durable-agents-login', version: '0.1.0' });
    const transport = transportFor(server, provider);
    try {
      await client.connect(transport);
      await client.close();
      throw new Error(`"${server.name}" answered without asking for authorization; nothing to log in to`);
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) throw err;
    }
    const { code } = await redirect;
    await transport.finishAuth(code);
    await client.close().catch(() => undefined);
    const toolCount = await listToolsWith(server, provider, o);
    o.print(
      `Logged in to "${server.name}" (${toolCount} tools). Tokens are in ${auth.tokenFile} (mode 0600); ` +
        'the worker uses them and refreshes them when they expire.',
    );
    return { tokenFile: auth.tokenFile, toolCount };
  } finally {
    await listener.close();
  }
}
