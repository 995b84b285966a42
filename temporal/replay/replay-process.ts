/**
 * Replays for a long-lived process (the API) in a child process it forks once and reuses: the
 * child bundles the workflow code on its first request (seconds of CPU) and keeps the bundle,
 * so later replays take about a second and the parent's event loop never waits on either.
 * Requests run one at a time; a child that hangs past the timeout is killed and replaced.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import type { ReplayVerdict } from './replay';

export interface ReplayRequest {
  id: number;
  /** History JSON as the CLI and Web UI write it. */
  history: string;
  workflowId: string;
}
export type ReplayReply = { id: number; verdict: ReplayVerdict } | { id: number; error: string };

/** The replayer could not answer (busy, too slow, crashed); says why. */
export class ReplayUnavailableError extends Error {
  override readonly name = 'ReplayUnavailableError';
  constructor(
    message: string,
    /** true when the request ran out of time (HTTP 504); otherwise the replayer is unavailable (503). */
    readonly timedOut = false,
  ) {
    super(message);
  }
}

export interface ReplayProcessOptions {
  /** Workflow module to replay against; default the project's `workflows/`. */
  workflowsPath?: string;
  /** Per request, bundling on the first one included. Default 180 s. */
  timeoutMs?: number;
  /** Requests waiting behind the running one, at most; more are refused. Default 16. */
  maxQueued?: number;
}

const CHILD = require.resolve('./replay-child');
/** Lines of the child's stderr kept to explain a crash. */
const STDERR_LINES = 20;

export class ReplayProcess {
  private child?: ChildProcess;
  private stderr: string[] = [];
  private nextId = 1;
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private current?: { id: number; resolve(v: ReplayVerdict): void; reject(e: Error): void };
  private closed = false;

  constructor(private readonly opts: ReplayProcessOptions = {}) {}

  /** Replays `historyJson` as run `workflowId`; one request at a time, in arrival order. */
  replay(historyJson: string, workflowId: string): Promise<ReplayVerdict> {
    if (this.closed) return Promise.reject(new ReplayUnavailableError('the replayer is shut down'));
    if (this.queued >= (this.opts.maxQueued ?? 16)) {
      return Promise.reject(new ReplayUnavailableError('too many replays are waiting; try again in a minute'));
    }
    this.queued++;
    const run = this.tail.then(() => this.send(historyJson, workflowId)).finally(() => this.queued--);
    this.tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }

  private send(history: string, workflowId: string): Promise<ReplayVerdict> {
    const child = this.ensureChild();
    const id = this.nextId++;
    const timeoutMs = this.opts.timeoutMs ?? 180_000;
    return new Promise<ReplayVerdict>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.current = undefined;
        void this.stop();
        reject(new ReplayUnavailableError(`the replay did not finish within ${timeoutMs / 1000} s`, true));
      }, timeoutMs);
      const settle =
        <T>(fn: (v: T) => void) =>
        (v: T) => {
          clearTimeout(timer);
          this.current = undefined;
          fn(v);
        };
      this.current = { id, resolve: settle(resolve), reject: settle(reject) };
      child.send({ id, history, workflowId } satisfies ReplayRequest, (err) => {
        if (err)
          this.current?.reject(new ReplayUnavailableError(`the replayer did not take the request: ${err.message}`));
      });
    });
  }

  private ensureChild(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.connected) return this.child;
    this.stderr = [];
    // Only the TypeScript loader: the parent's own flags (e.g. --test) are not the child's business.
    const child = fork(CHILD, this.opts.workflowsPath ? [this.opts.workflowsPath] : [], {
      execArgv: CHILD.endsWith('.ts') ? ['--import', pathToFileURL(require.resolve('tsx')).href] : [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr.push(...chunk.split('\n').filter(Boolean));
      this.stderr.splice(0, Math.max(0, this.stderr.length - STDERR_LINES));
    });
    child.on('message', (reply: ReplayReply) => {
      const current = this.current;
      if (!current || current.id !== reply.id) return; // an answer that came after its timeout
      if ('verdict' in reply) current.resolve(reply.verdict);
      else current.reject(new ReplayUnavailableError(`the replayer failed: ${reply.error}`));
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      const why = signal ? `signal ${signal}` : `exit code ${code}`;
      const tail = this.stderr.length ? `: ${this.stderr.slice(-3).join(' | ')}` : '';
      this.current?.reject(new ReplayUnavailableError(`the replayer stopped (${why})${tail}`));
    });
    this.child = child;
    return child;
  }

  private async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(force);
  }
}
