/**
 * The orchestrator as an MCP server over stdio (`npm run mcp`, or the `durable-agents-mcp`
 * command): the API's services in a Nest application context without an HTTP listener, talking
 * to the Temporal server and spec store the API's environment names (TEMPORAL_*, SPEC_STORE_DIR,
 * ...). It acts as the identity of MCP_STDIO_TOKEN, a bearer token verified as the API verifies
 * one (AUTH_TOKENS_FILE / AUTH_JWKS_*); without it, as `mcp-stdio`, a viewer: it reads, and
 * refuses to start, cancel or decide. Stdout carries only the protocol: every log goes to stderr.
 * It does not register the example specs (the API does, in the shared store).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { loadAuthConfig, requireAuthSource } from '../activities/identity/auth-config';
import { loadSigningSecret } from '../activities/identity/signing';
import { AuthError, createTokenVerifier, type TokenVerifier } from '../activities/identity/token-verifier';
import { loadLlmConfig } from '../activities/llm/config/load';
import { ConfigError } from '../config/config-errors';
import { loadTemporalConfig } from '../temporal/config';
import type { Identity } from '../workflows/contracts/identity';
import { AppModule } from './app.module';
import { loadApiConfig } from './config';
import { OrchestratorMcp } from './mcp-server/orchestrator-mcp';
import { StderrLogger } from './mcp-server/stderr-logger';

/** Who the stdio server acts as without MCP_STDIO_TOKEN. */
export const DEFAULT_STDIO_IDENTITY: Identity = { user: 'mcp-stdio', groups: [], roles: ['viewer'] };

// Nothing but the protocol may reach stdout, whichever library would print.
for (const method of ['log', 'info', 'debug'] as const) console[method] = console.error;

async function identityFromEnv(verifier: TokenVerifier, env: NodeJS.ProcessEnv): Promise<Identity> {
  const token = env.MCP_STDIO_TOKEN;
  if (token === undefined || token === '') return DEFAULT_STDIO_IDENTITY;
  try {
    return await verifier.verify(token);
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    throw new ConfigError('environment', [{ key: 'MCP_STDIO_TOKEN', message: err.message }]);
  }
}

async function main(): Promise<void> {
  const temporal = loadTemporalConfig();
  const api = loadApiConfig();
  const authConfig = loadAuthConfig();
  if (process.env.MCP_STDIO_TOKEN) requireAuthSource(authConfig);
  const verifier = createTokenVerifier(authConfig);
  const identity = await identityFromEnv(verifier, process.env);

  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot({
      temporal,
      specStoreDir: api.specStoreDir,
      webhookStoreDir: api.webhookStoreDir,
      devicesFile: api.devicesFile,
      examplesDir: null,
      specLimits: api.specLimits,
      llm: loadLlmConfig().config,
      auth: { verifier, signingSecret: loadSigningSecret(), publicUrl: api.publicUrl, temporalUiUrl: temporal.uiUrl },
    }),
    { logger: new StderrLogger(), abortOnError: false },
  );
  const mcp = await app.get(OrchestratorMcp).create({ identityOf: () => identity });

  let closing: Promise<void> | undefined;
  const shutdown = (code: number) => {
    closing ??= app
      .close()
      .catch((err: unknown) => console.error('mcp: closing', err))
      .finally(() => process.exit(code));
    return closing;
  };
  const transport = new StdioServerTransport();
  transport.onclose = () => void shutdown(0);
  process.stdin.once('end', () => void shutdown(0));
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  await mcp.server.connect(transport);
  console.error(
    `mcp: serving over stdio as "${identity.user}" (${identity.roles.join(', ') || 'no role'}); ` +
      `Temporal ${temporal.address} namespace ${temporal.namespace}, spec store ${api.specStoreDir}`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `mcp refused to start: ${err.message}` : err);
  process.exit(1);
});
