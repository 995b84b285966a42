/**
 * Starts `temporal server start-dev` as a child process (optionally persisted in a SQLite file)
 * with the project's search attributes, and waits until its namespace answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/contracts/run';
import { ensureSearchAttributes } from './search-attributes';

export interface DevServerOptions {
  cliPath: string;
  /** SQLite file that keeps state across restarts; omitted = in memory. */
  dbFile?: string;
  ip?: string;
  /** gRPC frontend port; default: a free port. */
  port?: number;
  /** Web UI port; false = no UI (--headless); default: a free port. */
  uiPort?: number | false;
  namespace?: string;
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  /**
   * Own process group, so a terminal Ctrl+C reaches only the parent, which can then stop the
   * workers before the server. The server is still killed when the parent exits.
   */
  detached?: boolean;
}

export interface DevServer {
  /** host:port of the gRPC frontend. */
  address: string;
  uiUrl?: string;
  namespace: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 10_000;

/**
 * Dynamic config of the dev server. Worker Versioning (worker deployments, pinned and
 * auto-upgrade runs, set-current-version) needs none on server 1.29: it is on by default there.
 * These only make a version that no open run is pinned to show as "drained" seconds after its
 * last pinned run closes (by default the server looks every 3 minutes, after a 3-minute grace),
 * so the README's upgrade walkthrough can be watched.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = {
  'matching.wv.VersionDrainageStatusRefreshInterval': '5s',
  'matching.wv.VersionDrainageStatusVisibilityGracePeriod': '5s',
  // A worker completing a workflow task gets the activities it schedules on its own queue back in
  // the answer (eager dispatch), instead of one more trip through matching per step.
  'system.enableActivityEagerExecution': true,
};

/** The dynamic config as `temporal server start-dev` flags (KEY=JSON: string values keep their quotes). */
export function dynamicConfigArgs(): string[] {
  return Object.entries(DEV_SERVER_DYNAMIC_CONFIG).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
}
const TAIL_LINES = 40;

export function freePort(): Promise<number> {
  return listenOnce('127.0.0.1', 0);
}

function listenOnce(ip: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(port, ip, () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

/** Otherwise a server already on the port would answer the readiness check in our server's stead. */
async function assertPortFree(ip: string, port: number, what: string): Promise<void> {
  try {
    await listenOnce(ip, port);
  } catch (err) {
    throw new Error(`cannot start the temporal dev server: ${what} ${ip}:${port} is taken (${(err as Error).message})`);
  }
}

export function devServerArgs(o: {
  ip: string;
  port: number;
  uiPort: number | false;
  namespace: string;
  dbFile?: string;
  /** Register the search attributes by flag: only for a new state file (on an old one the server warns per attribute). */
  withSearchAttributes?: boolean;
}): string[] {
  const args = ['server', 'start-dev', '--ip', o.ip, '--port', String(o.port), '--log-level', 'warn'];
  // "default" always exists; naming it again is harmless but noisy in the server's output.
  if (o.namespace !== 'default') args.push('--namespace', o.namespace);
  if (o.dbFile) {
    // WAL + NORMAL: far fewer fsyncs, and a crash still loses at most the last transactions.
    args.push(
      '--db-filename',
      o.dbFile,
      '--sqlite-pragma',
      'journal_mode=WAL',
      '--sqlite-pragma',
      'synchronous=NORMAL',
    );
  }
  if (o.withSearchAttributes ?? true) {
    for (const [name, type] of Object.entries(CUSTOM_SEARCH_ATTRIBUTES))
      args.push('--search-attribute', `${name}=${type}`);
  }
  args.push(...dynamicConfigArgs());
  if (o.uiPort === false) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort));
  return args;
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const port = opts.port ?? (await freePort());
  const uiPort = opts.uiPort === false ? false : (opts.uiPort ?? (await freePort()));
  await assertPortFree(ip, port, 'gRPC port');
  if (uiPort !== false) await assertPortFree(ip, uiPort, 'Web UI port');
  const dbFile = opts.dbFile ? path.resolve(opts.dbFile) : undefined;
  if (dbFile) await fs.mkdir(path.dirname(dbFile), { recursive: true });
  const resumed = dbFile !== undefined && (await fs.stat(dbFile).catch(() => undefined)) !== undefined;

  const args = devServerArgs({ ip, port, uiPort, namespace, dbFile, withSearchAttributes: !resumed });
  const child = spawn(opts.cliPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });
  const tail: string[] = [];
  let stopping = false;
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      // Shutdown makes the server's internal clients log connection errors; nobody needs those.
      if (!stopping) opts.log?.(line);
    });
  }
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`));
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopPromise: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopPromise ??= (async () => {
      stopping = true;
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })());

  const address = `${ip}:${port}`;
  try {
    await waitUntilReady(address, namespace, exited, tail, opts.readyTimeoutMs ?? 60_000);
    // A state file from an older version may lack attributes added since.
    if (resumed) await withConnection(address, (c) => ensureSearchAttributes(c, namespace));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    uiUrl: uiPort === false ? undefined : `http://${ip}:${uiPort}`,
    namespace,
    process: child,
    stop,
  };
}

async function withConnection<T>(address: string, use: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    return await use(connection);
  } finally {
    await connection.close();
  }
}

async function waitUntilReady(
  address: string,
  namespace: string,
  exited: Promise<string>,
  tail: string[],
  timeoutMs: number,
): Promise<void> {
  let exitReason: string | undefined;
  void exited.then((reason) => (exitReason = reason));
  const deadline = Date.now() + timeoutMs;
  let connection: Connection | undefined;
  let lastError: unknown;
  try {
    while (Date.now() < deadline) {
      if (exitReason !== undefined) {
        throw new Error(`temporal dev server exited before it was ready (${exitReason}):\n${tail.join('\n')}`);
      }
      try {
        connection ??= await Connection.connect({ address, connectTimeout: 2_000 });
        await connection.workflowService.describeNamespace({ namespace });
        if (exitReason === undefined) return;
      } catch (err) {
        lastError = err;
        await Promise.race([sleep(200), exited]);
      }
    }
    throw new Error(
      `temporal dev server on ${address} not ready after ${timeoutMs / 1000} s ` +
        `(last error: ${(lastError as Error | undefined)?.message}):\n${tail.join('\n')}`,
    );
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
