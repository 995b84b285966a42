import { DefaultLogger, NativeConnection, Runtime, type LogLevel, type Worker } from '@temporalio/worker';
import { loadTemporalConfig, type TemporalConfig } from '../temporal/config';
import { ConfigError } from '../config/config-errors';

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
    // The SDK's INFO lines (worker state changes, Nexus) are for debugging: WORKER_LOG_LEVEL=INFO shows them.
    Runtime.install({ logger: new DefaultLogger(workerLogLevel(process.env.WORKER_LOG_LEVEL)) });
    const temporal = loadTemporalConfig();
    const config = loadConfig();
    const connection = await NativeConnection.connect({ address: temporal.address });
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
    console.error(err instanceof ConfigError ? `${name} refused to start: ${err.message}` : err);
    process.exit(1);
  });
}

const LOG_LEVELS: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

function workerLogLevel(value: string | undefined): LogLevel {
  if (value === undefined || value === '') return 'WARN';
  const level = value.toUpperCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new ConfigError('environment', [
      { key: 'WORKER_LOG_LEVEL', message: `must be one of ${LOG_LEVELS.join(', ')}` },
    ]);
  }
  return level;
}
