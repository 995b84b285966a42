import { McpAuthError } from '../errors';

/**
 * OAuth did not yield a token the server accepts, for a reason another try cannot fix (refused
 * client credentials, no login yet). A McpAuthError, so the step fails without retrying.
 */
export class McpOAuthError extends McpAuthError {
  constructor(server: string, url: string, message: string) {
    super(server, 401, url);
    this.message = message;
    this.name = 'McpOAuthError';
  }
}

/** The server needs a person to log in (authorization code) and there are no usable tokens. */
export class McpLoginRequiredError extends McpOAuthError {
  constructor(server: string, url: string, why: string, tokenFile: string) {
    super(
      server,
      url,
      `MCP server "${server}" needs an OAuth login (${why}): run \`npm run mcp:login -- ${server}\` ` +
        `where a browser is at hand; the tokens are stored in ${tokenFile} and the worker uses them from then on`,
    );
    this.name = 'McpLoginRequiredError';
  }
}
