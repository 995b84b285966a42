/**
 * A production-shaped Temporal cluster on one machine: PostgreSQL (persistence and SQL
 * visibility), the four server services (frontend, history, matching, worker) each in its own
 * process, as on real hosts, and the Web UI server, all on loopback, configured by
 * temporal/cluster/config/. Processes are detached with pid files in the state folder, so
 * `up` returns and `down` (or the next `up`) stops them.
 *
 *   npx tsx temporal/cluster/cluster.ts up [--fresh] [--no-ui]   build if needed, start, set up
 *   npx tsx temporal/cluster/cluster.ts down                      stop everything
 *   npx tsx temporal/cluster/cluster.ts build                     only build the binaries
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { ensureClusterBinaries, type ClusterBinaries } from './binaries';
import { registerNamespace } from './namespace';
import { initPostgres, startPostgres, stopPostgres, type PostgresOptions } from './postgres';
import { setUpSchemas } from './schema';

const REPO_ROOT = path.resolve(__dirname, '../..');
const CONFIG_DIR = 'temporal/cluster/config';
export const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
const STOP_GRACE_MS = 15_000;

/** The defaults of config/server.yaml and config/ui.yaml (ports 7400-7443, 8400, 55433). */
export const CLUSTER_DEFAULTS = {
  frontendAddress: '127.0.0.1:7400',
  uiUrl: 'http://127.0.0.1:8400',
  postgres: { host: '127.0.0.1', port: 55433, user: 'temporal', password: 'temporal' },
  namespace: 'default',
} as const;

export interface ClusterOptions {
  /** Logs, pid files and PostgreSQL's data; default $TEMPORAL_CLUSTER_STATE_DIR or <tmp>/durable-agents-cluster. */
  stateDir?: string;
  /** Start from empty databases. */
  fresh?: boolean;
  ui?: boolean;
  log?: (line: string) => void;
}

export interface Cluster {
  address: string;
  namespace: string;
  uiUrl?: string;
  stateDir: string;
  binaries: ClusterBinaries;
}

export function defaultStateDir(): string {
  return process.env.TEMPORAL_CLUSTER_STATE_DIR || path.join(os.tmpdir(), 'durable-agents-cluster');
}

const postgresOptions = (stateDir: string): PostgresOptions => ({
  dir: path.join(stateDir, 'postgres'),
  ...CLUSTER_DEFAULTS.postgres,
});

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? ((line: string) => console.log(`[cluster] ${line}`));
  const stateDir = opts.stateDir ?? defaultStateDir();
  const binaries = await ensureClusterBinaries(log);

  // Whatever a killed earlier run left behind goes first: its ports are ours.
  await stopCluster({ stateDir, log });
  if (opts.fresh) await fs.rm(stateDir, { recursive: true, force: true });
  await fs.mkdir(path.join(stateDir, 'logs'), { recursive: true });
  await fs.chmod(stateDir, 0o755); // PostgreSQL's own user must reach its folder inside

  const pg = postgresOptions(stateDir);
  await initPostgres(pg);
  await startPostgres(pg);
  log(`PostgreSQL on ${pg.host}:${pg.port} (data in ${pg.dir})`);
  await setUpSchemas({ sqlTool: binaries.sqlTool, schemaDir: binaries.postgresSchemaDir, ...pg }, log);

  const env = { TEMPORAL_CLUSTER_DYNAMIC_CONFIG: path.join(REPO_ROOT, CONFIG_DIR, 'dynamic-config.yaml') };
  for (const [i, service] of SERVICES.entries()) {
    const args = ['--root', REPO_ROOT, '--config', CONFIG_DIR, '--env', 'server', '--allow-no-auth'];
    // One Prometheus endpoint per process: 7440 frontend, 7441 history, 7442 matching, 7443 worker.
    const metrics = { TEMPORAL_CLUSTER_METRICS_PORT: String(7440 + i) };
    await spawnDetached(stateDir, service, binaries.server, [...args, 'start', '--service', service], {
      ...env,
      ...metrics,
    });
  }
  const address = CLUSTER_DEFAULTS.frontendAddress;
  const connection = await untilFrontendAnswers(stateDir, address, 120_000);
  try {
    await registerNamespace(connection, CLUSTER_DEFAULTS.namespace);
  } finally {
    await connection.close();
  }
  log(`Temporal server ${address}, namespace "${CLUSTER_DEFAULTS.namespace}" (logs in ${stateDir}/logs)`);

  let uiUrl: string | undefined;
  if (opts.ui ?? true) {
    await spawnDetached(stateDir, 'ui', binaries.uiServer, [
      '--root',
      REPO_ROOT,
      '--config',
      CONFIG_DIR,
      '--env',
      'ui',
      'start',
    ]);
    uiUrl = CLUSTER_DEFAULTS.uiUrl;
    await untilUiAnswers(stateDir, uiUrl, 60_000);
    log(`Web UI ${uiUrl}`);
  }
  return { address, namespace: CLUSTER_DEFAULTS.namespace, uiUrl, stateDir, binaries };
}

/** Stops the UI, the services, then PostgreSQL, of the cluster whose pid files are in the state folder. */
export async function stopCluster(opts: { stateDir?: string; log?: (line: string) => void } = {}): Promise<void> {
  const stateDir = opts.stateDir ?? defaultStateDir();
  const log = opts.log ?? ((line: string) => console.log(`[cluster] ${line}`));
  for (const name of ['ui', ...SERVICES]) {
    const pidFile = path.join(stateDir, `${name}.pid`);
    const pid = Number(await fs.readFile(pidFile, 'utf8').catch(() => ''));
    if (pid > 0 && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + STOP_GRACE_MS;
      while (alive(pid) && Date.now() < deadline) await sleep(100);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      log(`stopped ${name} (pid ${pid})`);
    }
    await fs.rm(pidFile, { force: true });
  }
  if (existsSync(path.join(stateDir, 'postgres'))) await stopPostgres(postgresOptions(stateDir));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function spawnDetached(
  stateDir: string,
  name: string,
  file: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<void> {
  const logFd = openSync(path.join(stateDir, 'logs', `${name}.log`), 'a');
  try {
    const child = spawn(file, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await fs.writeFile(path.join(stateDir, `${name}.pid`), String(child.pid));
    child.unref();
  } finally {
    closeSync(logFd);
  }
}

async function logTail(stateDir: string, name: string): Promise<string> {
  const text = await fs.readFile(path.join(stateDir, 'logs', `${name}.log`), 'utf8').catch(() => '');
  return text.split('\n').slice(-20).join('\n');
}

async function assertServicesAlive(stateDir: string): Promise<void> {
  for (const service of SERVICES) {
    const pid = Number(await fs.readFile(path.join(stateDir, `${service}.pid`), 'utf8'));
    if (!alive(pid)) throw new Error(`the ${service} service exited:\n${await logTail(stateDir, service)}`);
  }
}

/** Ready once the frontend answers and the system namespace exists (the worker service made it). */
async function untilFrontendAnswers(stateDir: string, address: string, timeoutMs: number): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    await assertServicesAlive(stateDir);
    const connection = await Connection.connect({ address, connectTimeout: 2_000 }).catch((err: unknown) => {
      lastError = err;
      return undefined;
    });
    if (connection) {
      try {
        await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
        return connection;
      } catch (err) {
        lastError = err;
        await connection.close();
      }
    }
    await sleep(500);
  }
  throw new Error(`the frontend on ${address} did not answer in ${timeoutMs / 1000} s: ${lastError}`);
}

async function untilUiAnswers(stateDir: string, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await sleep(300);
  }
  throw new Error(`the Web UI on ${url} did not answer in ${timeoutMs / 1000} s:\n${await logTail(stateDir, 'ui')}`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...flags] = argv;
  if (command === 'build') {
    console.log(JSON.stringify(await ensureClusterBinaries(), null, 2));
  } else if (command === 'up') {
    const cluster = await startCluster({ fresh: flags.includes('--fresh'), ui: !flags.includes('--no-ui') });
    console.log(`TEMPORAL_ADDRESS=${cluster.address} TEMPORAL_NAMESPACE=${cluster.namespace}`);
  } else if (command === 'down') {
    await stopCluster();
  } else {
    throw new Error('usage: cluster.ts up [--fresh] [--no-ui] | down | build');
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
