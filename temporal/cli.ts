/**
 * Finds the Temporal CLI (which embeds the dev server), or builds it once with `go install`.
 * Run directly (`npm run temporal:cli`) it prints the binary's path.
 */
import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

/** The newest CLI that `go install` can build (v1.6+ has replace directives that forbid it). */
export const TEMPORAL_CLI_VERSION = '1.5.1';
const GO_PACKAGE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;
const REPO_ROOT = path.resolve(__dirname, '..');

export interface EnsureTemporalCliOptions {
  /** Progress lines; defaults to stderr. */
  log?: (line: string) => void;
}

export function cliCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'durable-agents', `temporal-${TEMPORAL_CLI_VERSION}`);
}

export const repoCliPath = (): string => path.join(REPO_ROOT, '.temporal', 'bin', 'temporal');

export async function ensureTemporalCli(opts: EnsureTemporalCliOptions = {}): Promise<string> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[temporal-cli] ${line}\n`));

  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    const resolved = path.resolve(fromEnv);
    const problem = (await isExecutableFile(resolved)) ? await versionProblem(resolved) : 'is not an executable file';
    if (problem)
      throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} ${problem}; unset it or point it at a Temporal CLI binary`);
    return resolved;
  }

  const candidates = [...onPath('temporal'), path.join(cliCacheDir(), 'temporal'), repoCliPath()];
  for (const candidate of candidates) {
    if (!(await isExecutableFile(candidate))) continue;
    const problem = await versionProblem(candidate);
    if (problem) {
      log(`ignoring ${candidate}: ${problem}`);
      continue;
    }
    // A fresh clone on a machine with the cached build: the README's `.temporal/bin/temporal` works too.
    if (candidate === path.join(cliCacheDir(), 'temporal') && !(await isExecutableFile(repoCliPath()))) {
      await linkIntoRepo(candidate, log);
    }
    return candidate;
  }

  const built = await buildWithGo(log);
  await linkIntoRepo(built, log);
  return built;
}

function onPath(name: string): string[] {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => path.isAbsolute(dir))
    .map((dir) => path.join(dir, name));
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    await fs.access(file, fsConstants.X_OK);
    return stat.isFile();
  } catch {
    return false;
  }
}

/** Undefined when `file --version` looks like the Temporal CLI, else why not. */
function versionProblem(file: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, ['--version'], { timeout: 15_000 }, (err, stdout) => {
      if (err) resolve(`does not run (${err.message.split('\n')[0]})`);
      else if (!/^temporal version/m.test(stdout))
        resolve(`does not look like the Temporal CLI (--version printed "${stdout.trim()}")`);
      else resolve(undefined);
    });
  });
}

async function buildWithGo(log: (line: string) => void): Promise<string> {
  const cacheDir = cliCacheDir();
  const target = path.join(cacheDir, 'temporal');
  await fs.mkdir(cacheDir, { recursive: true });
  // Built beside the target and renamed: a killed build never leaves a half-written binary.
  const tmpDir = await fs.mkdtemp(path.join(cacheDir, '.build-'));
  log(`Temporal CLI not found; building ${GO_PACKAGE} with go install (takes a few minutes the first time) ...`);
  const started = Date.now();
  try {
    await runGo(['install', GO_PACKAGE], { ...process.env, GOBIN: tmpDir }, log, started);
    await fs.rename(path.join(tmpDir, 'temporal'), target);
  } finally {
    await fs.rm(tmpDir, { recursive: true, force: true });
  }
  log(`built ${target} in ${Math.round((Date.now() - started) / 1000)} s`);
  return target;
}

function runGo(args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void, started: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on('line', (line) => log(`go: ${line.replace(/^go: /, '')}`));
    }
    // Compiling prints nothing for minutes; say that it is still alive.
    const heartbeat = setInterval(
      () => log(`still building ... ${Math.round((Date.now() - started) / 1000)} s`),
      30_000,
    );
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearInterval(heartbeat);
      reject(
        err.code === 'ENOENT'
          ? new Error(
              'The Temporal CLI is not installed and Go is not available to build it. Install Go 1.21 or newer ' +
                '(https://go.dev/doc/install; it fetches the Go 1.25 toolchain the CLI needs), put a `temporal` ' +
                'binary on PATH, or set TEMPORAL_CLI_PATH to an existing Temporal CLI binary.',
            )
          : err,
      );
    });
    child.on('close', (code, signal) => {
      clearInterval(heartbeat);
      if (code === 0) resolve();
      else reject(new Error(`go ${args.join(' ')} failed (${signal ?? `exit code ${code}`}); see the go output above`));
    });
  });
}

async function linkIntoRepo(binary: string, log: (line: string) => void): Promise<void> {
  const link = repoCliPath();
  try {
    await fs.mkdir(path.dirname(link), { recursive: true });
    const tmp = `${link}.${process.pid}.tmp`;
    await fs.rm(tmp, { force: true });
    await fs.symlink(binary, tmp);
    await fs.rename(tmp, link);
  } catch (err) {
    log(`could not link ${link} -> ${binary}: ${(err as Error).message}`);
  }
}

if (require.main === module) {
  ensureTemporalCli().then(
    (cliPath) => console.log(cliPath),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
