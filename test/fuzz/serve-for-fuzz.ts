/**
 * What the API fuzzer talks to: an in-memory Temporal dev server, the orchestrator worker and the
 * REST API (with the example specs registered; stores and blobs in a throw-away directory), all on loopback.
 * Prints `FUZZ_API_URL=<url>` and `FUZZ_API_TOKEN=<an admin's bearer token>` once everything
 * answers; SIGTERM or SIGINT stops it all.
 *
 *   FUZZ_API_PORT picks the API's port; by default the first free one of 3100-3199.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { createApp } from '../../api/app';
import { ensureTemporalCli } from '../../temporal/cli';
import type { TemporalConfig } from '../../temporal/config';
import { startDevServer } from '../../temporal/dev-server';
import { loadOrchestratorWorkerConfig } from '../../workers/orchestrator-config';
import { createOrchestratorWorker } from '../../workers/orchestrator-worker';
import { testAuth } from '../helpers/api-auth';
import { bundleWorkflowsOnce } from '../helpers/temporal';

const REPO_ROOT = path.resolve(__dirname, '../..');
const say = (line: string): void => console.error(`[serve-for-fuzz] ${line}`);

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function firstFreePort(ports: number[]): Promise<number> {
  for (const port of ports) if (await isFree(port)) return port;
  throw new Error(`no free port among ${ports[0]}-${ports.at(-1)}`);
}

async function main(): Promise<void> {
  const given = process.env.FUZZ_API_PORT;
  const ports = given === undefined ? Array.from({ length: 100 }, (_, i) => 3100 + i) : [Number(given)];
  if (!ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65_535)) {
    throw new Error('FUZZ_API_PORT must be a port number');
  }

  const cleanups: Array<() => Promise<unknown>> = [];
  let stopping: Promise<void> | undefined;
  const stop = (code: number): Promise<void> =>
    (stopping ??= (async () => {
      // Last in, first out: API, then worker, then the server they talk to.
      for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => say(String(err)));
      process.exit(code);
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(0));

  // First: it also sets the SDK's logger to errors only, which must precede any connection.
  const workflowBundle = bundleWorkflowsOnce();
  const server = await startDevServer({ cliPath: await ensureTemporalCli(), uiPort: false });
  cleanups.push(() => server.stop());
  const temporal: TemporalConfig = {
    address: server.address,
    namespace: server.namespace,
    uiUrl: 'http://127.0.0.1:8233',
    taskQueue: 'fuzz',
  };

  // Blobs and every store in throw-away directories: nothing the fuzzer does reaches the repository's .data.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'fuzz-data-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const connection = await NativeConnection.connect({ address: server.address });
  cleanups.push(() => connection.close());
  const worker = await createOrchestratorWorker({
    connection,
    temporal,
    config: loadOrchestratorWorkerConfig({
      BLOB_STORE_DIR: path.join(dataDir, 'blobs'),
      MCP_BLOB_DIR: path.join(dataDir, 'mcp-blobs'),
    }),
    workflowBundle: await workflowBundle,
  });
  const running = worker.run();
  cleanups.push(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });

  const specStoreDir = path.join(dataDir, 'specs');
  const webhookStoreDir = path.join(dataDir, 'webhooks');
  const port = await firstFreePort(ports);
  // The real guard and static tokens file: the fuzzer sends the admin's token (every role).
  const auth = testAuth();
  const app = await createApp({
    temporal,
    auth: auth.auth,
    specStoreDir,
    webhookStoreDir,
    // The README's devices, so GET /devices has some to report (none of them is reachable here).
    devicesFile: path.join(REPO_ROOT, 'examples', 'devices.json'),
    port,
    host: '127.0.0.1',
    logger: ['error', 'warn'],
  });
  cleanups.push(() => app.close());

  const url = `http://127.0.0.1:${port}`;
  say(`Temporal ${server.address}, worker on task queue "fuzz", API ${url}`);
  console.log(`FUZZ_API_TOKEN=${auth.tokens.admin}`);
  console.log(`FUZZ_API_URL=${url}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
