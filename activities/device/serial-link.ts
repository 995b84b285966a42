/**
 * One exclusive session on a board's serial port. The port is opened with the OS lock
 * serialport takes (flock), so a second process, such as a second worker started by mistake,
 * cannot open it while we hold it. Incoming bytes are split into ROM-loader SLIP frames and
 * console lines (serialport's readline parser).
 */
import { ReadlineParser, SerialPort } from 'serialport';
import { LinkTimeout, offline, portBusy } from './errors';
import { SlipDemux } from './slip';

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

export interface LineMatch {
  line: string;
  match: RegExpExecArray;
  /** Every line read from the wait's start to the match. */
  lines: string[];
}

const RECENT_LINES = 50;

export class SerialLink {
  private readonly frames: Buffer[] = [];
  private frameWaiter: Waiter<Buffer> | undefined;
  private readonly lines: string[] = [];
  private lineWaiter: { test(line: string): boolean; waiter: Waiter<void> } | undefined;
  private failure: unknown;
  readonly recent: string[] = [];

  private constructor(
    private readonly port: SerialPort,
    readonly path: string,
  ) {
    const console = new ReadlineParser({ delimiter: '\n' });
    const demux = new SlipDemux(
      (frame) => this.onFrame(frame),
      (text) => console.write(text),
    );
    console.on('data', (line: string) => this.onLine(line.replace(/\r$/, '')));
    port.on('data', (chunk: Buffer) => demux.push(chunk));
    port.on('close', () => this.fail(offline(`serial link ${path} closed`)));
    port.on('error', (err: Error) => this.fail(offline(`serial link ${path}: ${err.message}`)));
  }

  static async open(path: string, baudRate: number, signal?: AbortSignal): Promise<SerialLink> {
    const port = new SerialPort({ path, baudRate, autoOpen: false, lock: true });
    await new Promise<void>((resolve, reject) =>
      port.open((err) => {
        if (!err) return resolve();
        if (/lock/i.test(err.message))
          reject(portBusy(`serial port ${path} is locked by another process (${err.message})`));
        else reject(offline(`cannot open serial port ${path}: ${err.message}`));
      }),
    );
    const link = new SerialLink(port, path);
    signal?.addEventListener('abort', () => void link.close(), { once: true });
    // Whatever the board printed while nobody listened belongs to no request of ours.
    await link.discardInput();
    return link;
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    this.frameWaiter?.reject(err);
    this.lineWaiter?.waiter.reject(err);
    this.frameWaiter = undefined;
    this.lineWaiter = undefined;
  }

  private onFrame(frame: Buffer): void {
    const w = this.frameWaiter;
    if (w) {
      this.frameWaiter = undefined;
      w.resolve(frame);
    } else this.frames.push(frame);
  }

  private onLine(line: string): void {
    this.recent.push(line);
    if (this.recent.length > RECENT_LINES) this.recent.shift();
    this.lines.push(line);
    if (this.lineWaiter?.test(line)) {
      const w = this.lineWaiter.waiter;
      this.lineWaiter = undefined;
      w.resolve();
    }
  }

  async write(data: Buffer | string): Promise<void> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve, reject) => {
      this.port.write(data, (err) =>
        err ? reject(offline(`write to ${this.path} failed: ${err.message}`)) : undefined,
      );
      this.port.drain((err) => (err ? reject(offline(`write to ${this.path} failed: ${err.message}`)) : resolve()));
    });
  }

  /** The next SLIP frame from the board. */
  nextFrame(timeoutMs: number): Promise<Buffer> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.frameWaiter = undefined;
        reject(new LinkTimeout('response', timeoutMs));
      }, timeoutMs);
      this.frameWaiter = {
        resolve: (f) => (clearTimeout(timer), resolve(f)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }

  /** Drops console lines read so far, so a wait sees only what comes next. */
  markLines(): void {
    this.lines.length = 0;
  }

  /** Waits for a console line matching `pattern` (lines since the last `markLines`). */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<LineMatch> {
    const found = () => {
      for (let i = 0; i < this.lines.length; i++) {
        const match = pattern.exec(this.lines[i] as string);
        if (match) return { line: this.lines[i] as string, match, lines: this.lines.slice(0, i + 1) };
      }
      return undefined;
    };
    const early = found();
    if (early) return early;
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.lineWaiter = undefined;
        reject(new LinkTimeout(`console line matching /${pattern.source}/`, timeoutMs));
      }, timeoutMs);
      this.lineWaiter = {
        test: (line) => pattern.test(line),
        waiter: { resolve: () => (clearTimeout(timer), resolve()), reject: (e) => (clearTimeout(timer), reject(e)) },
      };
    });
    return found() as LineMatch;
  }

  async setSignals(signals: { dtr?: boolean; rts?: boolean }): Promise<void> {
    await new Promise<void>((resolve, reject) => this.port.set(signals, (err) => (err ? reject(err) : resolve())));
  }

  async discardInput(): Promise<void> {
    await new Promise<void>((resolve) => this.port.flush(() => resolve()));
    this.frames.length = 0;
    this.lines.length = 0;
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}
