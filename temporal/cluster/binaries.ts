/**
 * The cluster's programs, built once with `go install` from the Go module proxy and cached beside
 * the CLI (temporal/cli.ts) in ~/.cache/durable-agents: the Temporal server and its SQL schema tool
 * (one module, go.temporal.io/server) and the Web UI server (github.com/temporalio/ui-server/v2,
 * whose module ships the built UI). Neither module has replace directives at these tags.
 * Run directly it builds what is missing and prints the paths.
 */
import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export const TEMPORAL_SERVER_VERSION = '1.29.1';
/** The UI server that CLI 1.5.1 (the dev server's) embeds next to server 1.29.1. */
export const UI_SERVER_VERSION = '2.42.1';

const SERVER_MODULE = 'go.temporal.io/server';
const UI_MODULE = 'github.com/temporalio/ui-server/v2';

export interface ClusterBinaries {
  server: string;
  sqlTool: string;
  uiServer: string;
  /** schema/postgresql/v12 of the server module: temporal/ and visibility/, each with versioned/. */
  postgresSchemaDir: string;
}

type Log = (line: string) => void;

interface GoProgram {
  /** The file name in the cache (`go install` would name them all after their folder). */
  name: string;
  pkg: string;
  cacheDir: string;
}

function cacheHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'durable-agents');
}

function programs(): GoProgram[] {
  const serverDir = path.join(cacheHome(), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const uiDir = path.join(cacheHome(), `temporal-ui-server-${UI_SERVER_VERSION}`);
  return [
    { name: 'temporal-server', pkg: `${SERVER_MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`, cacheDir: serverDir },
    {
      name: 'temporal-sql-tool',
      pkg: `${SERVER_MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
      cacheDir: serverDir,
    },
    { name: 'temporal-ui-server', pkg: `${UI_MODULE}/cmd/server@v${UI_SERVER_VERSION}`, cacheDir: uiDir },
  ];
}

export async function ensureClusterBinaries(
  log: Log = (l) => process.stderr.write(`[cluster] ${l}\n`),
): Promise<ClusterBinaries> {
  const paths: string[] = [];
  for (const program of programs()) {
    const target = path.join(program.cacheDir, program.name);
    if (!(await isExecutable(target))) await goInstall(program, target, log);
    paths.push(target);
  }
  const [server, sqlTool, uiServer] = paths as [string, string, string];
  const moduleDir = await goModuleDir(`${SERVER_MODULE}@v${TEMPORAL_SERVER_VERSION}`);
  return { server, sqlTool, uiServer, postgresSchemaDir: path.join(moduleDir, 'schema', 'postgresql', 'v12') };
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, fsConstants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Built beside the target and renamed: a killed build never leaves a half-written binary. */
async function goInstall(program: GoProgram, target: string, log: Log): Promise<void> {
  await fs.mkdir(program.cacheDir, { recursive: true });
  const tmpDir = await fs.mkdtemp(path.join(program.cacheDir, '.build-'));
  log(`building ${program.pkg} with go install (many minutes on 2 cores, the first time only) ...`);
  const started = Date.now();
  try {
    await runGo(['install', program.pkg], { ...process.env, GOBIN: tmpDir }, log, started);
    const [built] = await fs.readdir(tmpDir);
    if (built === undefined) throw new Error(`go install ${program.pkg} left no binary`);
    await fs.rename(path.join(tmpDir, built), target);
  } finally {
    await fs.rm(tmpDir, { recursive: true, force: true });
  }
  log(`built ${target} in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** The module's folder in the Go module cache (downloaded if needed): the schema files live there. */
function goModuleDir(moduleAtVersion: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('go', ['mod', 'download', '-json', moduleAtVersion], { cwd: os.tmpdir() }, (err, stdout) => {
      const info = (() => {
        try {
          return JSON.parse(stdout) as { Dir?: string; Error?: string };
        } catch {
          return {};
        }
      })();
      if (info.Dir) resolve(info.Dir);
      else reject(new Error(`go mod download ${moduleAtVersion} failed: ${info.Error ?? err?.message ?? stdout}`));
    });
  });
}

function runGo(args: string[], env: NodeJS.ProcessEnv, log: Log, started: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // Outside the repository: the project has no go.mod, and module mode must not look for one.
    const child = spawn('go', args, { env, cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on('line', (line) => log(`go: ${line.replace(/^go: /, '')}`));
    }
    const heartbeat = setInterval(
      () => log(`still building ... ${Math.round((Date.now() - started) / 1000)} s`),
      60_000,
    );
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearInterval(heartbeat);
      reject(err.code === 'ENOENT' ? new Error('Go is needed to build the Temporal server (go install)') : err);
    });
    child.on('close', (code, signal) => {
      clearInterval(heartbeat);
      if (code === 0) resolve();
      else reject(new Error(`go ${args.join(' ')} failed (${signal ?? `exit code ${code}`}); see the go output above`));
    });
  });
}

if (require.main === module) {
  ensureClusterBinaries().then(
    (b) => console.log(JSON.stringify(b, null, 2)),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
