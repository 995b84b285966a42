/**
 * `npm test [-- FILTER... --node-test-flag...]`: every `.test.ts` file under test/ (or those whose
 * path contains one of the filters) under Node's test runner, ending with `N passed, M failed`.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ensureTemporalCli } from '../temporal/cli';

const REPO_ROOT = path.resolve(__dirname, '..');

async function findTestFiles(filters: string[]): Promise<string[]> {
  const entries = await readdir(path.join(REPO_ROOT, 'test'), { recursive: true });
  return entries
    .map((entry) => path.posix.join('test', entry.split(path.sep).join('/')))
    .filter((file) => file.endsWith('.test.ts') && !file.includes('/node_modules/'))
    .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
    .sort();
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

  // Once, up front: a first-time build shows its progress here instead of inside a test's output.
  const cliPath = await ensureTemporalCli({ log: (line) => console.log(`[temporal-cli] ${line}`) });

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
    { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, TEMPORAL_CLI_PATH: cliPath } },
  );
  // Ctrl+C reaches the runner too (same process group); wait for it to clean up and report.
  const ignore = (): void => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGTERM', (signal) => child.kill(signal));
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
