/**
 * A provider's API keys and which of them are rate limited until when. One ring per provider per
 * worker process, shared by every call, so a key one run hit a 429 with is skipped by the others.
 * A call keeps using the current key until it is limited, then moves to the next.
 */
export class KeyRing {
  private readonly limitedUntil: number[];
  private current = 0;

  constructor(
    readonly size: number,
    private readonly now: () => number = Date.now,
  ) {
    this.limitedUntil = new Array<number>(size).fill(0);
  }

  /** The first key not limited now, from the current one on; undefined when every key is limited. */
  pick(): number | undefined {
    const now = this.now();
    for (let i = 0; i < this.size; i++) {
      const index = (this.current + i) % this.size;
      if ((this.limitedUntil[index] ?? 0) <= now) {
        this.current = index;
        return index;
      }
    }
    return undefined;
  }

  limit(index: number, untilMs: number): void {
    this.limitedUntil[index] = Math.max(this.limitedUntil[index] ?? 0, untilMs);
    if (index === this.current) this.current = (index + 1) % this.size;
  }

  /** Milliseconds until the first key is free again (0 when one is free now). */
  waitMs(): number {
    const now = this.now();
    return Math.max(0, Math.min(...this.limitedUntil) - now);
  }

  /** For heartbeat details: the next attempt, maybe on another worker, starts from what this one knew. */
  snapshot(): number[] {
    return [...this.limitedUntil];
  }

  merge(limitedUntil: readonly number[]): void {
    limitedUntil.slice(0, this.size).forEach((until, i) => {
      if (typeof until === 'number' && until > (this.limitedUntil[i] ?? 0)) this.limit(i, until);
    });
  }
}
