/**
 * `npm test` itself: the last line counts passed, failed and skipped tests, and a skipped or
 * todo test fails the run (exit code 1) even though node:test alone would exit 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '../..');

function runRunner(fixture: string): Promise<{ code: number | null; lastLine: string; out: string }> {
  // Node marks its test files' processes as children of a runner; the nested runner must not be.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/run-tests.ts', `test/fixtures/runner/${fixture}`], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, out, lastLine: out.trimEnd().split('\n').at(-1) ?? '' })),
  );
}

test('a run where everything passes exits 0 and ends with the counts', async () => {
  const run = await runRunner('passes.ts');
  assert.equal(run.lastLine, '2 passed, 0 failed, 0 skipped', run.out);
  assert.equal(run.code, 0, run.out);
});

test('a skipped test fails the run and is named above the counts', async () => {
  const run = await runRunner('skips.ts');
  assert.equal(run.lastLine, '1 passed, 0 failed, 1 skipped', run.out);
  assert.match(
    run.out,
    /skipped tests fail the run[^\n]*\n\s+- test\/fixtures\/runner\/skips\.ts: does not run \(a tool is missing\)/,
  );
  assert.equal(run.code, 1, run.out);
});

test('a todo test fails the run too', async () => {
  const run = await runRunner('todo.ts');
  assert.equal(run.lastLine, '1 passed, 0 failed, 1 skipped', run.out);
  assert.equal(run.code, 1, run.out);
});
