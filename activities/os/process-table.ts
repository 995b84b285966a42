/**
 * What Linux says about processes (/proc), for code that must tell whether a process group is
 * still running and whether a pid still names the process it once did. A zombie (exited, not
 * yet reaped by its parent or init) counts as gone. Elsewhere `available` is false.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  state: string;
  pgrp: number;
  /** Clock ticks after boot: with the pid, names one process for the life of the host. */
  startTicks: number;
}

export const available = process.platform === 'linux' && existsSync('/proc/self/stat');

/** Fields of /proc/<pid>/stat after the command name, which may itself hold spaces and parens. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 of proc(5) (state), so field N is fields[N - 3].
  return { state: fields[0] ?? '?', pgrp: Number(fields[2]), startTicks: Number(fields[19]) };
}

export function isRunning(stat: ProcStat | undefined): stat is ProcStat {
  return stat !== undefined && stat.state !== 'Z';
}

/** Running members of process group `pgid` that started at `notBefore` or later. */
export function groupMembers(pgid: number, notBefore = 0): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (isRunning(stat) && stat.pgrp === pgid && stat.startTicks >= notBefore) pids.push(Number(entry));
  }
  return pids;
}

/** Whether any process of the group still runs (without /proc: whether the group exists at all). */
export function groupAlive(pgid: number): boolean {
  if (available) return groupMembers(pgid).length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
