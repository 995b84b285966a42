/**
 * A value computed at most once per `ttlMs`: scrapes that arrive together (several Prometheus
 * replicas, a person refreshing) share one round of visibility queries. A failed read is not kept.
 */
export class Cached<T> {
  private value?: { at: number; promise: Promise<T> };

  constructor(
    private readonly ttlMs: number,
    private readonly read: () => Promise<T>,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    const at = this.now();
    if (this.value && at - this.value.at < this.ttlMs) return this.value.promise;
    const promise = this.read();
    const entry = { at, promise };
    this.value = entry;
    promise.catch(() => {
      if (this.value === entry) this.value = undefined;
    });
    return promise;
  }
}
