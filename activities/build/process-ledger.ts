/**
 * The process groups a worker process started (builds, upload commands), written down so that
 * the next worker of the same queue can end those that a SIGKILLed predecessor left running: a
 * killed worker takes nothing with it, and an orphaned esptool keeps the serial port.
 *
 * One file per worker process, `<runDir>/<queue>.<pid>.pids`: a header line naming the worker
 * (pid and start time), then one line per group still running. A group is killed at start-up
 * only when its worker is gone and it is still ours: its leader has the recorded start time, or
 * (leader gone) processes still carry its group id, which the kernel never hands out again while
 * the group exists. Linux only (/proc); elsewhere nothing is recorded or killed.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { available, groupMembers, isRunning, readProcStat } from '../os/process-table';

export interface GroupRecord {
  pgid: number;
  startTicks: number;
  command: string;
}

interface Header {
  worker: number;
  startTicks: number;
  queue: string;
}

export interface ReapedGroup extends GroupRecord {
  /** Pid of the worker that started it. */
  worker: number;
}

const fileName = (queue: string, pid: number) => `${encodeURIComponent(queue)}.${pid}.pids`;

/** Kills one recorded group if it is still ours; true when something was killed. */
async function reapGroup(record: GroupRecord): Promise<boolean> {
  const leader = readProcStat(record.pgid);
  if (leader && leader.startTicks !== record.startTicks) return false; // the pid now belongs to someone else
  if (!isRunning(leader) && groupMembers(record.pgid, record.startTicks).length === 0) return false;
  try {
    process.kill(-record.pgid, 'SIGKILL');
  } catch {
    return false;
  }
  // Wait until the group is gone, so that what it held (a serial port, a build directory) is free.
  for (let i = 0; i < 100 && groupMembers(record.pgid, record.startTicks).length > 0; i++) await delay(50);
  return true;
}

function parseLedger(text: string): { header?: Header; groups: GroupRecord[] } {
  const lines = text.split('\n').filter(Boolean);
  const parsed = lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Header | GroupRecord];
    } catch {
      return []; // a line torn by a crash mid-write
    }
  });
  const header = parsed.find((p): p is Header => 'worker' in p);
  const groups = parsed.filter((p): p is GroupRecord => 'pgid' in p);
  return { header, groups };
}

export class ProcessGroupLedger {
  private readonly groups = new Map<number, GroupRecord>();
  private readonly header: Header;

  private constructor(
    readonly file: string,
    queue: string,
  ) {
    this.header = { worker: process.pid, startTicks: readProcStat(process.pid)?.startTicks ?? 0, queue };
    this.write();
  }

  /**
   * Kills the groups left by dead workers of `queue` (files of live workers are left alone),
   * then opens this worker's own ledger.
   */
  static async claim(runDir: string, queue: string): Promise<{ ledger?: ProcessGroupLedger; reaped: ReapedGroup[] }> {
    if (!available) return { reaped: [] };
    mkdirSync(runDir, { recursive: true });
    const prefix = `${encodeURIComponent(queue)}.`;
    const reaped: ReapedGroup[] = [];
    for (const name of readdirSync(runDir)) {
      const owner = name.startsWith(prefix) ? /^(\d+)\.pids$/.exec(name.slice(prefix.length)) : null;
      if (!owner) continue;
      const file = path.join(runDir, name);
      const { header, groups } = parseLedger(readFileSync(file, 'utf8'));
      const worker = Number(owner[1]);
      const workerStat = readProcStat(worker);
      if (isRunning(workerStat) && (header === undefined || workerStat.startTicks === header.startTicks)) continue;
      for (const g of groups) if (await reapGroup(g)) reaped.push({ ...g, worker });
      rmSync(file, { force: true });
    }
    return { ledger: new ProcessGroupLedger(path.join(runDir, fileName(queue, process.pid)), queue), reaped };
  }

  /** Records a group just started (its leader's pid is the group id). */
  add(pgid: number, command: string): void {
    const startTicks = readProcStat(pgid)?.startTicks;
    if (startTicks === undefined) return; // already gone
    this.groups.set(pgid, { pgid, startTicks, command });
    this.write();
  }

  remove(pgid: number): void {
    if (this.groups.delete(pgid)) this.write();
  }

  /** Written whole and renamed into place: a crash leaves the old file or the new, never half. */
  private write(): void {
    const tmp = `${this.file}.tmp`;
    const lines = [this.header, ...this.groups.values()].map((l) => JSON.stringify(l));
    writeFileSync(tmp, `${lines.join('\n')}\n`);
    renameSync(tmp, this.file);
  }
}
