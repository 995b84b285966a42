/**
 * CPU time of the processes a bench drives, read from Linux's /proc (utime + stime): a worker
 * child, and the Temporal dev server that TestWorkflowEnvironment starts (its pid is not exposed,
 * so it is found by its port). Elsewhere the readers answer NaN and the tables say n/a.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU of process `pid` so far, in ms (all its threads); NaN if it cannot be read. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after it are fixed: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
  } catch {
    return NaN;
  }
}

/** This process's own CPU so far, in ms. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** The pid of the `temporal server start-dev` listening on `address` (host:port); undefined if not found. */
export function devServerPid(address: string): number | undefined {
  const port = address.slice(address.lastIndexOf(':') + 1);
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const isServer = path.basename(args[0] ?? '').startsWith('temporal') && args.includes('start-dev');
      if (isServer && (args.includes(port) || args.includes(`--port=${port}`))) return Number(entry);
    } catch {
      // Gone since the listing, or not ours to read.
    }
  }
  return undefined;
}

/** CPU spent by each named process between start() and the returned function's call, in ms. */
export function cpuMeter(readers: Record<string, () => number>): () => Record<string, number> {
  const before = Object.fromEntries(Object.entries(readers).map(([name, read]) => [name, read()]));
  return () => Object.fromEntries(Object.entries(readers).map(([name, read]) => [name, read() - before[name]!]));
}

/**
 * Starts a phase: the CPU each named process spends from now on, and a cell of it per call when
 * the phase ends ("api 3.1 / server 5.2 / worker 4.0 / bench 1.2", ms per call).
 */
export function cpuPerCall(readers: Record<string, () => number>): (calls: number) => string {
  const stop = cpuMeter(readers);
  return (calls) =>
    Object.entries(stop())
      .map(([name, used]) => `${name} ${(used / calls).toFixed(1)}`)
      .join(' / ');
}

/** The readers of a bench's usual processes: the API, the dev server, the worker and this one. */
export function standardProcesses(p: { api: number; serverPid: number | undefined; worker: number }) {
  return {
    api: () => processCpuMs(p.api),
    server: () => (p.serverPid === undefined ? NaN : processCpuMs(p.serverPid)),
    worker: () => processCpuMs(p.worker),
    bench: ownCpuMs,
  };
}
