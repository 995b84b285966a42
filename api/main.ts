/**
 * Entry of the API process (`npm run api`): validates its config, then serves until SIGINT or
 * SIGTERM, when Nest's shutdown hooks close the Temporal connection.
 */
import { Logger } from '@nestjs/common';
import { loadTemporalConfig } from '../temporal/config';
import { SERVICE_NAMES, tracingFromEnv } from '../temporal/tracing';
import { ConfigError } from '../config/config-errors';
import { loadAuthConfig, requireAuthSource } from '../activities/identity/auth-config';
import { loadSigningSecret } from '../activities/identity/signing';
import { createTokenVerifier } from '../activities/identity/token-verifier';
import { createApp } from './app';
import { loadLlmConfig } from '../activities/llm/config/load';
import { loadApiConfig } from './config';
import { StartupQuietLogger } from './startup-logger';
import { loadApiLogConfig } from './logging/log-config';
import { loadMetricsCacheMs } from './metrics/metrics-config';

async function main(): Promise<void> {
  const temporal = loadTemporalConfig();
  const api = loadApiConfig();
  const logging = loadApiLogConfig();
  const authConfig = loadAuthConfig();
  requireAuthSource(authConfig);
  const tracing = tracingFromEnv(SERVICE_NAMES.api);
  const app = await createApp({
    temporal,
    auth: {
      verifier: createTokenVerifier(authConfig),
      signingSecret: loadSigningSecret(),
      publicUrl: api.publicUrl,
      temporalUiUrl: temporal.uiUrl,
    },
    specStoreDir: api.specStoreDir,
    webhookStoreDir: api.webhookStoreDir,
    devicesFile: api.devicesFile,
    bodyLimit: api.bodyLimit,
    specLimits: api.specLimits,
    // The same models file as the workers' (LLM_MODELS_FILE / LLM_MODELS_JSON), so a bad name is a 400 at submit.
    llm: loadLlmConfig().config,
    port: api.port,
    // LOG_FORMAT=json (default): JSON lines through pino; text: Nest's console format, no request log.
    ...(logging.format === 'json' ? { log: { level: logging.level } } : { logger: new StartupQuietLogger() }),
    metricsCacheMs: loadMetricsCacheMs(),
    host: api.host,
    tracing,
  });
  const url = await app.getUrl();
  new Logger('Api').log(
    `listening on ${url} (docs: ${url}/docs); Temporal ${temporal.address}, spec store ${api.specStoreDir}; ` +
      `auth: ${describeAuth(authConfig)}` +
      (tracing ? `; traces to ${tracing.tracesUrl} as ${tracing.serviceName}` : ''),
  );
}

function describeAuth(config: ReturnType<typeof loadAuthConfig>): string {
  const sources = [];
  if (config.staticTokensFile)
    sources.push(`${config.staticTokens.length} static token(s) from ${config.staticTokensFile}`);
  if (config.jwt)
    sources.push(`JWTs from ${config.jwt.jwks.kind === 'file' ? config.jwt.jwks.file : config.jwt.jwks.url.href}`);
  return sources.join(', ');
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `api refused to start: ${err.message}` : err);
  process.exit(1);
});
