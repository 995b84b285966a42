import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import {
  InvalidClientError,
  OAuthError,
  ServerError,
  TemporarilyUnavailableError,
  UnauthorizedClientError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { McpOAuthError } from './errors';
import type { OAuthServer } from './provider';

/**
 * What an OAuth failure during connect means for the step: a refused client or grant cannot be
 * fixed by another try (McpOAuthError, not retried); an authorization server that is down or
 * busy can (undefined: the caller treats it as any connect failure).
 */
export function oauthFailure(server: OAuthServer, err: unknown): McpOAuthError | undefined {
  if (err instanceof McpOAuthError) return err;
  const { name, url, auth } = server;
  if (err instanceof ServerError || err instanceof TemporarilyUnavailableError) return undefined;
  if (err instanceof InvalidClientError || err instanceof UnauthorizedClientError) {
    const secret = auth.clientSecretEnv
      ? ` and the secret in $${auth.clientSecretEnv}`
      : auth.privateKeyEnv
        ? ` and the key in $${auth.privateKeyEnv}`
        : '';
    return new McpOAuthError(
      name,
      url,
      `MCP server "${name}": the authorization server refused the OAuth client (${err.errorCode}: ${err.message}); ` +
        `check mcpServers.${name}.auth.clientId${secret}`,
    );
  }
  if (err instanceof OAuthError)
    return new McpOAuthError(name, url, `MCP server "${name}": OAuth failed (${err.errorCode}: ${err.message})`);
  if (err instanceof UnauthorizedError)
    return new McpOAuthError(name, url, `MCP server "${name}": OAuth authorization did not complete (${err.message})`);
  return undefined;
}
