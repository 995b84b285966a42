/**
 * The process-group ledger against real processes: what a dead worker left is killed, what a live
 * worker runs is not, nor a group whose leader pid now names another process.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { recordProcessGroupsIn, runProcessGroup } from '../../activities/build/process-group';
import { ProcessGroupLedger } from '../../activities/build/process-ledger';
import { readProcStat } from '../../activities/os/process-table';

const spawned: ChildProcess[] = [];

after(() => {
  for (const c of spawned) {
    try {
      process.kill(-(c.pid as number), 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
  }
});

const running = (pid: number) => {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== 'Z';
};

/** A process group that idles: `node -e ...` as leader (detached). */
function idleGroup(code = 'setInterval(() => {}, 1000)'): ChildProcess {
  const child = spawn(process.execPath, ['-e', code], { detached: true, stdio: 'ignore' });
  spawned.push(child);
  return child;
}

async function waitUntil(what: string, probe: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (probe()) return;
    await delay(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Writes a ledger as worker `worker` would have left it. */
function ledgerOf(dir: string, queue: string, worker: ChildProcess | number, groups: object[]): string {
  const pid = typeof worker === 'number' ? worker : (worker.pid as number);
  const file = path.join(dir, `${queue}.${pid}.pids`);
  const header = { worker: pid, startTicks: readProcStat(pid)?.startTicks ?? 1, queue };
  writeFileSync(file, [header, ...groups].map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}

const recordOf = (child: ChildProcess, startTicks = readProcStat(child.pid as number)!.startTicks) => ({
  pgid: child.pid,
  startTicks,
  command: 'node',
});

test('groups of a dead worker are killed; a live worker and a reused pid are left alone', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ledger-'));
  const orphan = idleGroup();
  const reused = idleGroup();
  const ofLiveWorker = idleGroup();
  const liveWorker = idleGroup();
  // A leader that exits at once, leaving a member of its group behind.
  const leaderGone = idleGroup(
    `require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });` +
      `setTimeout(() => process.exit(0), 500)`,
  );
  await waitUntil('processes to start', () =>
    [orphan, reused, ofLiveWorker, liveWorker, leaderGone].every((c) => running(c.pid!)),
  );
  const leaderGoneStart = readProcStat(leaderGone.pid!)!.startTicks;
  const member = await memberOf(leaderGone.pid!);
  await new Promise((r) => leaderGone.once('exit', r));
  assert.ok(running(member), 'the member outlives its leader');

  const deadWorker = 2 ** 22 + 17; // above the largest pid_max Linux allows: never a process
  const deadFile = ledgerOf(dir, 'build', deadWorker, [
    recordOf(orphan),
    recordOf(reused, 1), // the pid is alive but started at another time: not ours
    { pgid: leaderGone.pid, startTicks: leaderGoneStart, command: 'node' },
  ]);
  const liveFile = ledgerOf(dir, 'build', liveWorker, [recordOf(ofLiveWorker)]);
  const otherQueue = ledgerOf(dir, 'device-upload.board', deadWorker, [recordOf(reused)]);

  const { ledger, reaped } = await ProcessGroupLedger.claim(dir, 'build');
  assert.deepEqual(reaped.map((r) => r.pgid).sort(), [orphan.pid, leaderGone.pid].sort());
  assert.ok(!running(orphan.pid!), 'the orphaned group is killed');
  assert.ok(!running(member), 'the member of a group whose leader had exited is killed');
  assert.ok(running(reused.pid!), 'a pid that now names another process is not touched');
  assert.ok(running(ofLiveWorker.pid!), 'a live worker’s group is not touched');
  assert.ok(!existsSync(deadFile));
  assert.ok(existsSync(liveFile));
  assert.ok(existsSync(otherQueue), 'another queue’s ledger is not this worker’s business');
  assert.ok(ledger && existsSync(ledger.file));
});

async function memberOf(pgid: number): Promise<number> {
  let found: number | undefined;
  await waitUntil('the member to show', () => {
    found = undefined;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === pgid) continue;
      const stat = readProcStat(Number(entry));
      if (stat && stat.pgrp === pgid && stat.state !== 'Z') found = Number(entry);
    }
    return found !== undefined;
  });
  return found!;
}

test('runProcessGroup records its group while it runs and drops it when it ends', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ledger-'));
  const { ledger } = await ProcessGroupLedger.claim(dir, 'build');
  assert.ok(ledger);
  recordProcessGroupsIn(ledger);
  try {
    const controller = new AbortController();
    const run = runProcessGroup({
      argv: [process.execPath, '-e', 'console.log("up"); setInterval(() => {}, 1000)'],
      signal: controller.signal,
      killGraceMs: 1000,
      onOutput: () => controller.abort(),
    });
    await waitUntil('the group to be recorded', () => /"pgid":\d+/.test(readFileSync(ledger.file, 'utf8')));
    await run;
    assert.doesNotMatch(readFileSync(ledger.file, 'utf8'), /"pgid"/);
  } finally {
    recordProcessGroupsIn(undefined);
  }
});
