import { NativeConnection, type Worker } from '@temporalio/worker';
import { loadTemporalConfig, type TemporalConfig } from '../temporal/config';
import { temporalConnectOptions } from '../temporal/connection';
import { MissingSearchAttributesError } from '../temporal/search-attributes';
import { ConfigError } from '../config/config-errors';
import { installWorkerRuntime } from './telemetry/runtime';
import { loadWorkerTelemetryConfig } from './telemetry/telemetry-config';

/**
 * The life of every worker process: read and validate all config (before connecting, so a bad
 * value stops the process naming its key), connect, build the worker, run it until
 * SIGINT/SIGTERM (the Worker drains on those), close the connection.
 */
export function runWorkerProcess<C>(
  name: string,
  loadConfig: () => C,
  build: (
    connection: NativeConnection,
    temporal: TemporalConfig,
    config: C,
  ) => Promise<{ worker: Worker; banner: string }>,
): void {
  const main = async (): Promise<void> => {
    // JSON logs and the Prometheus endpoint (workers/telemetry); WORKER_LOG_LEVEL=INFO shows the SDK's debugging lines.
    installWorkerRuntime(name, loadWorkerTelemetryConfig());
    const temporal = loadTemporalConfig();
    const config = loadConfig();
    const connection = await NativeConnection.connect(temporalConnectOptions(temporal));
    try {
      const { worker, banner } = await build(connection, temporal, config);
      console.log(`${name}: ${banner}`);
      await worker.run();
      console.log(`${name}: drained and stopped`);
    } finally {
      await connection.close();
    }
  };
  main().catch((err: unknown) => {
    const refused = err instanceof ConfigError || err instanceof MissingSearchAttributesError;
    console.error(refused ? `${name} refused to start: ${err.message}` : err);
    process.exit(1);
  });
}
