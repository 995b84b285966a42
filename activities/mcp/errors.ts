/** Errors of the pool itself; the activities turn them into Temporal failures (see failures.ts). */
export class McpUnknownServerError extends Error {
  constructor(
    readonly server: string,
    readonly configured: readonly string[],
    readonly disabled = false,
  ) {
    super(
      disabled
        ? `MCP server "${server}" is disabled in the config`
        : `unknown MCP server "${server}" (configured: ${configured.join(', ') || 'none'})`,
    );
    this.name = 'McpUnknownServerError';
  }
}

export class McpUnknownToolError extends Error {
  constructor(
    readonly server: string,
    readonly tool: string,
    readonly available: readonly string[],
  ) {
    super(
      `unknown tool "${server}.${tool}" (available: ${available.map((t) => `${server}.${t}`).join(', ') || 'none'})`,
    );
    this.name = 'McpUnknownToolError';
  }
}

/** The server could not be started or reached; worth retrying. */
export class McpConnectError extends Error {
  constructor(
    readonly server: string,
    cause: unknown,
    detail?: string,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`cannot connect to MCP server "${server}": ${why}${detail ? `\n${detail}` : ''}`, { cause });
    this.name = 'McpConnectError';
  }
}

/** The server refused the configured credentials (HTTP 401/403): another try cannot help. */
export class McpAuthError extends Error {
  constructor(
    readonly server: string,
    readonly status: number,
    readonly url: string,
  ) {
    super(
      `MCP server "${server}" refused the credentials (HTTP ${status} from ${url}); check the headers configured for it`,
    );
    this.name = 'McpAuthError';
  }
}

/** Connects to the server failed repeatedly: the pool waits before it starts another process or session. */
export class McpConnectBackoffError extends Error {
  constructor(
    readonly server: string,
    readonly failures: number,
    readonly retryInMs: number,
    lastError: string | undefined,
  ) {
    super(
      `MCP server "${server}" failed to connect ${failures} times in a row; the pool waits ` +
        `${(retryInMs / 1000).toFixed(1)} s before trying again${lastError ? ` (last error: ${lastError})` : ''}`,
    );
    this.name = 'McpConnectBackoffError';
  }
}

export class McpPoolClosedError extends Error {
  constructor() {
    super('the MCP client pool is closed (worker shutting down)');
    this.name = 'McpPoolClosedError';
  }
}
