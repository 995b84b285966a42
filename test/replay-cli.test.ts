/**
 * `npm run replay` on history files, spawned as a user runs it: a recorded history replays
 * against today's code, and against a deliberately changed interpreter the first divergence is
 * named with its event, both sides and the step. (Replaying by workflow id, fetched from a
 * server, is in test/e2e/history-api.test.ts.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..');
const HISTORY = 'test/histories/parallel-approval.json';
const ids = JSON.parse(readFileSync(path.join(__dirname, 'histories', 'workflow-ids.json'), 'utf8')) as Record<
  string,
  string
>;
const WORKFLOW_ID = ids['parallel-approval.json'] as string;

function replay(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'replay', '--', ...args], { cwd: ROOT }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('a recorded history replays against today’s code (exit 0, JSON verdict)', async () => {
  const r = await replay([HISTORY, '--workflow-id', WORKFLOW_ID, '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const verdict = JSON.parse(r.stdout) as { outcome: string; events: number; workflowId: string };
  assert.deepEqual([verdict.outcome, verdict.workflowId], ['deterministic', WORKFLOW_ID]);
  assert.ok(verdict.events > 10);
});

test('against a changed interpreter it names the event, what history and code did, and the step (exit 1)', async () => {
  const r = await replay([HISTORY, '--workflow-id', WORKFLOW_ID, '--workflows', 'test/fixtures/changed-workflow.ts']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^NOT deterministic$/m);
  assert.match(r.stdout, /event: +5 \(ActivityTaskScheduled\)/);
  assert.match(r.stdout, /recorded: +activity "test\.echo" of step "build"/);
  assert.match(r.stdout, /code: +started a timer there instead/);
  assert.match(r.stdout, /step: +build/);
  assert.match(r.stdout, /guard it with patched\(\)/);
  assert.equal(r.stderr, '', 'no SDK log noise');
});

test('a missing file or one that is no history is exit 2 with the reason', async () => {
  const missing = await replay(['test/histories/nope.json']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file: test\/histories\/nope\.json/);
  const notHistory = await replay(['test/histories/workflow-ids.json']);
  assert.equal(notHistory.code, 2);
  assert.match(notHistory.stderr, /not a workflow history/);
});
