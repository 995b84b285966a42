/**
 * Concurrent reads of one key share their Temporal calls without answering anyone with a state
 * older than their request: a read in flight may have fetched before a request arrived (and so
 * miss a decision its caller just made), so a request that finds one waits for the next read,
 * which starts when the current one settles and answers everyone who arrived meanwhile. However
 * many clients poll a run at once, it costs at most two reads in flight.
 */
export class ReadCoalescer<T> {
  private readonly current = new Map<string, Promise<T>>();
  private readonly next = new Map<string, Promise<T>>();

  read(key: string, fetch: () => Promise<T>): Promise<T> {
    const queued = this.next.get(key);
    if (queued) return queued;
    const running = this.current.get(key);
    if (!running) return this.start(key, fetch);
    const settled = () => {
      this.next.delete(key);
      return this.start(key, fetch);
    };
    const after = running.then(settled, settled);
    this.next.set(key, after);
    return after;
  }

  /** Keys with a read in flight or queued (for tests and metrics). */
  get size(): number {
    return this.current.size + this.next.size;
  }

  private start(key: string, fetch: () => Promise<T>): Promise<T> {
    let read: Promise<T>;
    try {
      read = fetch();
    } catch (err) {
      read = Promise.reject(err);
    }
    this.current.set(key, read);
    const done = () => {
      if (this.current.get(key) === read) this.current.delete(key);
    };
    read.then(done, done);
    return read;
  }
}
