/**
 * A stdio MCP client transport whose server process leads a process group of its own, so that
 * closing it (or giving up on a connect) also ends what the server started: `npx` and its node,
 * a shell wrapper and its child. The SDK's StdioClientTransport signals the direct child only.
 * The first stdout line that is not JSON-RPC is kept, to explain a server that never answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { deserializeMessage, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { groupAlive } from '../os/process-table';

export interface StdioServerParams {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

const MAX_LINE_BYTES = 10 * 1024 * 1024;
/** How long a closing server may take to exit on its own (stdin closed), then after SIGTERM. */
const CLOSE_GRACE_MS = 2000;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/**
 * Waits (briefly) until no process of the group is left: a signal is delivered when its target
 * next runs, so a helper can outlive the leader's exit by a moment on a busy host.
 */
async function groupGone(pid: number, ms = 2000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end && groupAlive(pid);) await delay(20);
}

export class ProcessGroupStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** The server's stderr; available before start() so no early line is lost. */
  readonly stderr = new PassThrough();
  /** The first line on stdout that was not a JSON-RPC message (cut to 200 characters). */
  noise?: string;
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private buffered = Buffer.alloc(0);

  constructor(private readonly params: StdioServerParams) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<void> {
    if (this.child) throw new Error('the server process is already started');
    return new Promise((resolve, reject) => {
      const child = spawn(this.params.command, this.params.args, {
        env: { ...getDefaultEnvironment(), ...this.params.env },
        cwd: this.params.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      this.child = child;
      this.exited = new Promise((r) => child.once('exit', () => r()));
      child.once('error', (err) => {
        reject(err);
        this.onerror?.(err);
      });
      child.once('spawn', () => resolve());
      child.once('close', () => this.onclose?.());
      child.stdin?.on('error', (err) => this.onerror?.(err));
      child.stdout?.on('data', (chunk: Buffer) => this.read(chunk));
      child.stderr?.pipe(this.stderr);
    });
  }

  private read(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (let nl = this.buffered.indexOf(10); nl >= 0; nl = this.buffered.indexOf(10)) {
      const line = this.buffered.toString('utf8', 0, nl).replace(/\r$/, '');
      this.buffered = this.buffered.subarray(nl + 1);
      if (!line.trim()) continue;
      let message: JSONRPCMessage;
      try {
        message = deserializeMessage(line);
      } catch (err) {
        this.noise ??= line.length > 200 ? `${line.slice(0, 200)}…` : line;
        this.onerror?.(
          new Error(`the server wrote a line that is not JSON-RPC: ${line.slice(0, 200)}`, { cause: err }),
        );
        continue;
      }
      this.onmessage?.(message);
    }
    if (this.buffered.length > MAX_LINE_BYTES) {
      this.noise ??= `${this.buffered.toString('utf8', 0, 200)}… (over ${MAX_LINE_BYTES} bytes without a newline)`;
      this.buffered = Buffer.alloc(0);
      this.onerror?.(new Error(`the server wrote over ${MAX_LINE_BYTES} bytes without a newline`));
    }
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return Promise.reject(new Error('Not connected'));
    return new Promise((resolve) => {
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  private running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private async waitExit(ms: number): Promise<boolean> {
    if (!this.running()) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
    const done = await Promise.race([this.exited!.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return done;
  }

  /** Ends the session: stdin closed (the polite way to stop a stdio server), then SIGTERM, then SIGKILL. */
  async close(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    this.child?.stdin?.end();
    if (!(await this.waitExit(CLOSE_GRACE_MS))) {
      signalGroup(pid, 'SIGTERM');
      if (!(await this.waitExit(CLOSE_GRACE_MS))) await this.kill();
    }
    // Whatever the server left behind in its group goes with it.
    signalGroup(pid, 'SIGKILL');
    await groupGone(pid);
  }

  /** Ends the server's whole process group at once (a connect that failed or was given up). */
  async kill(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    signalGroup(pid, 'SIGKILL');
    await this.exited;
    await groupGone(pid);
  }
}
