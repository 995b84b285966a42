/**
 * Entry of the API process (`npm run api`): validates its config, then serves until SIGINT or
 * SIGTERM, when Nest's shutdown hooks close the Temporal connection.
 */
import { Logger } from '@nestjs/common';
import { loadTemporalConfig } from '../temporal/config';
import { ConfigError } from '../workers/config-errors';
import { createApp } from './app';
import { loadLlmConfig } from '../activities/llm/config/load';
import { loadApiConfig } from './config';
import { StartupQuietLogger } from './startup-logger';

async function main(): Promise<void> {
  const temporal = loadTemporalConfig();
  const api = loadApiConfig();
  const app = await createApp({
    temporal,
    specStoreDir: api.specStoreDir,
    devicesFile: api.devicesFile,
    bodyLimit: api.bodyLimit,
    specLimits: api.specLimits,
    // The same models file as the workers' (LLM_MODELS_FILE / LLM_MODELS_JSON), so a bad name is a 400 at submit.
    llm: loadLlmConfig().config,
    port: api.port,
    logger: new StartupQuietLogger(),
    host: api.host,
  });
  const url = await app.getUrl();
  new Logger('Api').log(
    `listening on ${url} (docs: ${url}/docs); Temporal ${temporal.address}, spec store ${api.specStoreDir}`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `api refused to start: ${err.message}` : err);
  process.exit(1);
});
