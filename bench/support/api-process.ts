/**
 * The API as `npm run api` runs it: api/main.ts in a process of its own, with its own Temporal
 * connection, so its CPU can be read from /proc apart from the load generator's and the worker's.
 * Its stores live in a temporary folder (removed on stop); auth is the caller's static tokens file.
 * Its output (a JSON line per request at the default log level) goes to a file there, not through
 * this process; the last lines are printed if it fails to start. Ready once GET /health answers.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = path.resolve(__dirname, '../..');
const READY_TIMEOUT_MS = 120_000;

export interface ApiProcess {
  pid: number;
  /** e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  /** SIGTERM, then wait for it to exit. */
  stop(): Promise<void>;
}

export interface ApiProcessOptions {
  address: string;
  taskQueue: string;
  /** AUTH_TOKENS_FILE and SIGNING_SECRET (test/helpers/api-auth.ts testAuth().env). */
  authEnv: Record<string, string>;
  /** More environment; it wins over the defaults. */
  env?: Record<string, string>;
  /** Node flags after tsx's, before the entry (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

/** A free loopback port (closed again before the API binds it; fine on a bench machine). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export async function startApiProcess(opts: ApiProcessOptions): Promise<ApiProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-api-'));
  const port = await freePort();
  const args = ['--import', 'tsx', ...(opts.nodeArgs ?? []), path.join(ROOT, 'api/main.ts')];
  const logFile = path.join(dir, 'api.log');
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: opts.address,
      TEMPORAL_NAMESPACE: 'default',
      ORCHESTRATOR_TASK_QUEUE: opts.taskQueue,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      SPEC_STORE_DIR: path.join(dir, 'specs'),
      WEBHOOK_STORE_DIR: path.join(dir, 'webhooks'),
      ...opts.authEnv,
      ...opts.env,
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const ready = (async () => {
    const until = Date.now() + READY_TIMEOUT_MS;
    while (child.exitCode === null && child.signalCode === null) {
      const answered = await fetch(`${baseUrl}/health`).then(
        () => true,
        () => false,
      );
      if (answered) return;
      if (Date.now() > until) throw new Error('the API process did not answer /health in time');
      await sleep(200);
    }
    throw new Error(`the API process exited before it was ready (${child.exitCode ?? child.signalCode})`);
  })();
  try {
    await ready;
  } catch (err) {
    console.error(readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n'));
    await stop();
    throw err;
  }
  return { pid: child.pid!, baseUrl, stop };
}
