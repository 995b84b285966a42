/**
 * `npm test [-- FILTER... --node-test-flag...]`: every `.test.ts` file under test/ (or those whose
 * path contains one of the filters; a filter naming an existing file runs that file as is) under
 * Node's test runner, ending with `N passed, N failed, N skipped`. What the tests need from
 * outside (the Temporal CLI, esptool) is set up first; any failed or skipped test fails the run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureTemporalCli } from '../temporal/cli';
import { ensureJavaTestServer } from '../temporal/test-server';
import { ensureEsptool } from './fixtures/device/esptool';
import { ensureChromium } from './setup/ensure-chromium';

const REPO_ROOT = path.resolve(__dirname, '..');

async function findTestFiles(filters: string[]): Promise<string[]> {
  const isFile = (f: string) => existsSync(path.resolve(REPO_ROOT, f)) && statSync(path.resolve(REPO_ROOT, f)).isFile();
  const named = filters.filter(isFile);
  const patterns = filters.filter((f) => !isFile(f));
  const entries = await readdir(path.join(REPO_ROOT, 'test'), { recursive: true });
  const matching = entries
    .map((entry) => path.posix.join('test', entry.split(path.sep).join('/')))
    .filter((file) => file.endsWith('.test.ts') && !file.includes('/node_modules/'))
    .filter((file) => filters.length === 0 || patterns.some((f) => file.includes(f)));
  return [...new Set([...named, ...matching])].sort();
}

interface Summary {
  passed: number;
  failed: number;
  skipped: number;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const nodeFlags = args.filter((a) => a.startsWith('--'));
  const filters = args.filter((a) => !a.startsWith('--'));
  const files = await findTestFiles(filters);
  if (files.length === 0) {
    console.error(`no test files match ${filters.map((f) => JSON.stringify(f)).join(' or ')}`);
    return 1;
  }

  // Once, up front: a first-time build or install shows its progress here instead of inside a
  // test's output, and a missing tool fails the run here rather than skipping its tests.
  const cliPath = await ensureTemporalCli({ log: (line) => console.log(`[temporal-cli] ${line}`) });
  const toolEnv: Record<string, string> = { TEMPORAL_CLI_PATH: cliPath };
  if (files.some((f) => f.includes('esptool')))
    toolEnv.ESPTOOL_PATH = await ensureEsptool({ log: (line) => console.log(`[esptool] ${line}`) });
  if (files.some((f) => f.includes('long-waits')))
    toolEnv.TEMPORAL_TEST_SERVER_PATH = await ensureJavaTestServer({ log: (l) => console.log(`[test-server] ${l}`) });
  if (files.some((f) => f.includes('web-ui')))
    toolEnv.CHROMIUM_PATH = await ensureChromium({ log: (l) => console.log(`[chromium] ${l}`) });

  const summaryDir = mkdtempSync(path.join(tmpdir(), 'test-summary-'));
  const summaryFile = path.join(summaryDir, 'summary.json');

  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=2',
      '--test-timeout=180000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${path.join(REPO_ROOT, 'test', 'helpers', 'summary-reporter.mjs')}`,
      '--test-reporter-destination=stdout',
      ...nodeFlags,
      ...files,
    ],
    { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, ...toolEnv, TEST_SUMMARY_FILE: summaryFile } },
  );
  // Ctrl+C reaches the runner too (same process group); wait for it to clean up and report.
  const ignore = (): void => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGTERM', (signal) => child.kill(signal));
  const code = await new Promise<number>((resolve) => {
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
  try {
    if (code !== 0) return code;
    // node:test exits 0 with skipped tests; the summary reporter has listed them above its line.
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary;
    return summary.failed + summary.skipped > 0 ? 1 : 0;
  } catch (err) {
    console.error(`the summary reporter left no counts in ${summaryFile}: ${(err as Error).message}`);
    return 1;
  } finally {
    rmSync(summaryDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
