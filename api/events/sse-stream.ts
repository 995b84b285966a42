/**
 * One Server-Sent Events response: `id:`, `event:` and one `data:` line per event, comment lines
 * to keep idle connections open, and backpressure — `send` resolves only when the socket took
 * the event (or the client went away), so a reader that stops reading stops the stream's reads
 * from Temporal instead of growing a buffer. Nothing a workflow does waits on a stream.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

export interface SseOptions {
  /** A comment line after this long without a write. */
  keepAliveMs: number;
  /** The reconnection delay the stream asks EventSource clients for (`retry:`). */
  retryMs: number;
}

export class SseStream {
  private readonly aborter = new AbortController();
  private lastWrite = Date.now();
  private readonly timer: NodeJS.Timeout;
  private draining = false;

  constructor(
    private readonly res: ServerResponse,
    opts: SseOptions,
  ) {
    res.on('close', () => this.aborter.abort());
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // Proxies such as nginx would otherwise hold events back in their buffers.
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    this.write(`retry: ${opts.retryMs}\n\n`);
    this.timer = setInterval(
      () => {
        // A client that is not reading gets no comments piled up behind its events.
        if (!this.draining && Date.now() - this.lastWrite >= opts.keepAliveMs) this.write(': keep-alive\n\n');
      },
      Math.max(50, Math.floor(opts.keepAliveMs / 2)),
    );
    this.timer.unref();
  }

  /** Aborted when the client disconnects (or the stream ended). */
  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  get closed(): boolean {
    return this.aborter.signal.aborted;
  }

  /** Writes one event; resolves once the socket can take more (or the client left). */
  async send(id: string, type: string, data: unknown): Promise<void> {
    if (this.closed) return;
    const ok = this.write(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    if (ok || this.closed) return;
    this.draining = true;
    try {
      await once(this.res, 'drain', { signal: this.signal });
    } catch {
      // The client went away while we waited.
    } finally {
      this.draining = false;
    }
  }

  comment(text: string): void {
    if (!this.closed) this.write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`);
  }

  /** Ends the response (the client may reconnect; see the route's description). */
  end(): void {
    clearInterval(this.timer);
    if (!this.res.writableEnded) this.res.end();
    this.aborter.abort();
  }

  private write(text: string): boolean {
    this.lastWrite = Date.now();
    return this.res.write(text);
  }
}
