/**
 * `npm start`: a Temporal server (the dev server in `.temporal/`, or the one TEMPORAL_ADDRESS,
 * a TEMPORAL_PROFILE, TLS or an API key point at: temporal/connection.ts),
 * the orchestrator worker and the API, as one unit. Ctrl+C stops the worker and the API first
 * (the worker drains against a live server), then the server. On a first start it creates a local
 * admin token and a signing secret in `.data/auth/` (AUTH_DIR) unless auth is configured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { z } from 'zod';
import { ConfigError, parseConfig } from '../config/config-errors';
import { loadDevicesConfig } from '../activities/device/devices-file';
import { loadWorkerVersioningConfig } from './versioning-config';
import { ensureTemporalCli } from './cli';
import { loadTemporalConfig, type TemporalConfig } from './config';
import { describeConnection, temporalConnectOptions } from './connection';
import { startDevServer, type DevServer } from './dev-server';
import { applyRetention, loadRetentionMs } from './retention';
import { ensureLocalAuth } from './local-auth';
import { ensureSearchAttributes, mayRegisterSearchAttributes, MissingSearchAttributesError } from './search-attributes';

const REPO_ROOT = path.resolve(__dirname, '..');
/** Longer than the worker's default 30 s shutdown grace, so a drain is not cut short. */
const CHILD_STOP_TIMEOUT_MS = 35_000;

const port = z.coerce.number().int().min(1).max(65_535);
const envSchema = z.object({
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_DEV_UI_PORT: port.default(8233),
  API_PORT: port.default(3000),
  /** Where the local admin token, its tokens file and the signing secret are kept. */
  AUTH_DIR: z
    .string()
    .min(1, 'must be a directory path')
    .default(path.join(REPO_ROOT, '.data', 'auth')),
});

interface Temporal {
  address: string;
  namespace: string;
  uiUrl?: string;
  server?: DevServer;
}

interface Managed {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

const say = (line: string): void => console.log(`[start] ${line}`);
const EXPECTED_FIRST_START_ERROR = /deployment client error.*Worker Deployment not found/;

type StartEnv = z.infer<typeof envSchema>;

async function startTemporal(config: TemporalConfig, startEnv: StartEnv): Promise<Temporal> {
  if (config.access?.explicit) {
    const connection = await Connection.connect(temporalConnectOptions(config));
    try {
      await ensureSearchAttributes(connection, config.namespace, { register: mayRegisterSearchAttributes(config) });
    } finally {
      await connection.close();
    }
    say(`using the Temporal server at ${describeConnection(config)}`);
    return { address: config.address, namespace: config.namespace, uiUrl: process.env.TEMPORAL_UI_URL };
  }
  const cliPath = await ensureTemporalCli({ log: (line) => say(line) });
  const dbFile = path.join(REPO_ROOT, '.temporal', 'temporal.db');
  say(`starting the Temporal dev server (state in ${path.relative(process.cwd(), dbFile)}) ...`);
  const server = await startDevServer({
    cliPath,
    dbFile,
    port: startEnv.TEMPORAL_DEV_PORT,
    uiPort: startEnv.TEMPORAL_DEV_UI_PORT,
    namespace: config.namespace,
    detached: true,
    log: (line) => {
      // The server logs an ERROR when a worker asks for its deployment before the first version
      // exists; the worker expects that NOT_FOUND on a first start (temporal/worker-deployments.ts).
      if (!EXPECTED_FIRST_START_ERROR.test(line)) console.log(`[temporal] ${line}`);
    },
  });
  return { address: server.address, namespace: server.namespace, uiUrl: server.uiUrl, server };
}

/** TEMPORAL_RETENTION on the namespace in use (our dev server's, or a shared server's where allowed). */
async function setRetention(config: TemporalConfig, temporal: Temporal, ms: number): Promise<void> {
  const connection = await Connection.connect(temporalConnectOptions({ ...config, address: temporal.address }));
  try {
    const changed = await applyRetention(connection, temporal.namespace, ms);
    say(`namespace ${temporal.namespace}: retention ${ms / 86_400_000} days${changed ? ' (set now)' : ''}`);
  } finally {
    await connection.close();
  }
}

function startChild(name: string, entry: string, env: NodeJS.ProcessEnv): Managed {
  // Plain node with the tsx loader, not the tsx CLI: one process, so SIGTERM reaches the app itself.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, entry)], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a terminal Ctrl+C reaches only us, and we stop things in order.
    detached: true,
  });
  readline.createInterface({ input: child.stdout! }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
  readline.createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      process.stderr.write(`[${name}] ${err.message}\n`);
      resolve();
    });
  });
  return { name, child, exited };
}

const isRunning = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

async function stopChild({ child, exited }: Managed): Promise<void> {
  if (!isRunning(child)) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** Any HTTP answer means the API listens; a 404 on /docs is not our business here. */
async function waitForHttp(url: string, alive: () => boolean, timeoutMs = 120_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive()) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return true;
    } catch {
      await sleep(250);
    }
  }
  return false;
}

async function main(): Promise<void> {
  // Bad settings stop us before anything is started.
  const config = loadTemporalConfig();
  const startEnv = parseConfig(envSchema, process.env, 'environment');
  loadWorkerVersioningConfig();
  const retentionMs = loadRetentionMs();
  const localAuth = ensureLocalAuth(process.env, path.resolve(startEnv.AUTH_DIR));
  for (const file of localAuth.created) say(`created ${file}`);
  const children: Managed[] = [];
  // eslint-disable-next-line prefer-const -- the signal handlers read it before it is set
  let temporal: Temporal | undefined;
  let shuttingDown = false;
  let shutdownStartedAt = 0;

  const shutdown = async (code: number, why: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    shutdownStartedAt = Date.now();
    say(`${why}; stopping the worker and the API ...`);
    await Promise.all(children.map(stopChild));
    if (temporal?.server) {
      say('stopping the Temporal dev server ...');
      await temporal.server.stop();
    }
    say('stopped');
    process.exit(code);
  };
  const forceStop = (): never => {
    for (const { child } of children) if (isRunning(child)) child.kill('SIGKILL');
    temporal?.server?.process.kill('SIGKILL');
    process.exit(130);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (!shuttingDown) void shutdown(0, `${signal} received`);
      // Under `npm start` one Ctrl+C arrives twice (from the terminal and relayed by npm and tsx);
      // only a later one means "stop waiting for the drain".
      else if (Date.now() - shutdownStartedAt > 2_000) forceStop();
    });
  }
  // Children live in their own process groups, so they must not outlive us when we crash.
  process.once('exit', () => {
    for (const { child } of children) if (isRunning(child)) child.kill('SIGKILL');
  });

  temporal = await startTemporal(config, startEnv);
  temporal.server?.process.once('exit', () => {
    if (!shuttingDown) void shutdown(1, 'the Temporal dev server exited unexpectedly');
  });
  if (shuttingDown) return;
  if (retentionMs !== undefined) await setRetention(config, temporal, retentionMs);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The API verifies tokens with it; workers verify the tokens in approve signals and sign links.
    ...localAuth.env,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    ...(temporal.uiUrl ? { TEMPORAL_UI_URL: temporal.uiUrl } : {}),
    // A terminal reads text better; LOG_FORMAT=json gives the production lines.
    LOG_FORMAT: process.env.LOG_FORMAT ?? 'text',
    // The examples folder's .mcp.json serves the README's MCP example unless you point elsewhere.
    MCP_CONFIG: process.env.MCP_CONFIG ?? 'examples',
    // Our own dev server sees one worker generation at a time: the one started now replaces the
    // last, so it becomes current. On a shared server (TEMPORAL_ADDRESS, a profile) only a first version is.
    WORKER_PROMOTE: process.env.WORKER_PROMOTE ?? (temporal.server ? 'always' : 'first'),
  };
  // Device and build workers only where the operator configured boards and build workspaces.
  const devices = process.env.DEVICES_CONFIG ? loadDevicesConfig(process.env.DEVICES_CONFIG).devices : [];
  const processes: Array<[string, string, NodeJS.ProcessEnv]> = [
    ['worker', 'workers/orchestrator.ts', env],
    ['api', 'api/main.ts', env],
    ...devices.map((d): [string, string, NodeJS.ProcessEnv] => [
      `device:${d.id}`,
      'workers/device.ts',
      { ...env, DEVICE_ID: d.id },
    ]),
    ...(process.env.BUILD_CONFIG ? [['build', 'workers/build.ts', env] as [string, string, NodeJS.ProcessEnv]] : []),
  ];
  for (const [name, entry, childEnv] of processes) {
    const managed = startChild(name, entry, childEnv);
    children.push(managed);
    void managed.exited.then(() => {
      if (!shuttingDown) {
        const how = managed.child.signalCode ?? `code ${managed.child.exitCode}`;
        void shutdown(1, `the ${name} exited unexpectedly (${how})`);
      }
    });
  }

  const apiUrl = `http://127.0.0.1:${startEnv.API_PORT}`;
  const api = children[1]!;
  if (await waitForHttp(apiUrl, () => isRunning(api.child) && !shuttingDown)) {
    say(`API:     ${apiUrl}`);
    say(`OpenAPI: ${apiUrl}/docs`);
    if (temporal.uiUrl) say(`Web UI:  ${temporal.uiUrl}`);
    say(`Temporal ${temporal.address} (namespace ${temporal.namespace}); Ctrl+C stops everything`);
    if (localAuth.adminTokenFile) {
      const relative = path.relative(process.cwd(), localAuth.adminTokenFile);
      const file = relative.startsWith('..') ? localAuth.adminTokenFile : relative;
      say(`Sign in: export TOKEN=$(cat ${file}); curl -H "Authorization: Bearer $TOKEN" ${apiUrl}/workflows`);
    }
  } else if (!shuttingDown) {
    say(`the API has not answered on ${apiUrl} for 2 minutes; see its output above`);
  }
}

main().catch((err: unknown) => {
  const refused = err instanceof ConfigError || err instanceof MissingSearchAttributesError;
  console.error(refused ? `npm start refused to start: ${err.message}` : err);
  process.exit(1);
});
