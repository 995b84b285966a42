/**
 * Runs a configured command line (argv, never a shell) as the leader of its own process group,
 * streaming its output; aborting kills the whole group (a build's compilers, an uploader's
 * helpers), SIGTERM first, then SIGKILL after a grace period. While it runs, the group is in
 * the worker's ledger (when the worker keeps one), so a successor can end it if this worker dies.
 */
import { spawn } from 'node:child_process';
import type { ProcessGroupLedger } from './process-ledger';

let ledger: ProcessGroupLedger | undefined;

/** The ledger of this worker process: every group started from now on is recorded in it. */
export function recordProcessGroupsIn(l: ProcessGroupLedger | undefined): void {
  ledger = l;
}

export interface ProcessRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Last lines of stdout and stderr, interleaved as they came. */
  tail: string[];
  bytes: number;
  durationMs: number;
}

export interface ProcessOptions {
  argv: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  tailLines?: number;
  killGraceMs?: number;
  onOutput?(tail: string[], bytes: number): void;
}

export function runProcessGroup(o: ProcessOptions): Promise<ProcessRun> {
  const started = Date.now();
  const tailLines = o.tailLines ?? 40;
  const tail: string[] = [];
  let partial = '';
  let bytes = 0;
  const [command, ...args] = o.argv as [string, ...string[]];
  return new Promise<ProcessRun>((resolve, reject) => {
    const child = spawn(command, args, { cwd: o.cwd, env: o.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const recordedIn = child.pid === undefined ? undefined : ledger;
    recordedIn?.add(child.pid as number, command);
    const push = (line: string) => {
      tail.push(line);
      if (tail.length > tailLines) tail.shift();
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      const parts = (partial + chunk.toString('utf8')).split(/\r?\n|\r/);
      partial = parts.pop() ?? '';
      parts.forEach(push);
      o.onOutput?.([...tail, ...(partial ? [partial] : [])], bytes);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);

    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      const kill = (sig: NodeJS.Signals) => {
        try {
          process.kill(-(child.pid as number), sig);
        } catch {
          // The group is already gone.
        }
      };
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), o.killGraceMs ?? 5000);
      killTimer.unref();
    };
    if (o.signal?.aborted) killGroup();
    o.signal?.addEventListener('abort', killGroup, { once: true });

    child.on('error', (err) => {
      recordedIn?.remove(child.pid as number);
      o.signal?.removeEventListener('abort', killGroup);
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.on('close', (exitCode, signal) => {
      recordedIn?.remove(child.pid as number);
      if (killTimer) clearTimeout(killTimer);
      o.signal?.removeEventListener('abort', killGroup);
      if (partial) push(partial);
      resolve({ exitCode, signal, tail, bytes, durationMs: Date.now() - started });
    });
  });
}
