export interface BackoffOptions {
  /** The wait after the second failure in a row (default 1 s); it doubles with each further one. */
  initialMs: number;
  /** The longest wait (default 30 s). */
  maxMs: number;
}

export const DEFAULT_CONNECT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000 };

/**
 * Connect failures of one server in a row, and when the next attempt may start. The first
 * failure costs nothing (a server restarting, a stale session); from the second on, attempts
 * wait initialMs, 2×, 4×, … up to maxMs. One instance per server, so every caller shares it.
 */
export class ConnectBackoff {
  failures = 0;
  private retryAt = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly now: () => number,
  ) {}

  /** Records a failure; returns the wait it imposes. */
  failed(): number {
    this.failures++;
    const wait =
      this.failures < 2 ? 0 : Math.min(this.options.maxMs, this.options.initialMs * 2 ** (this.failures - 2));
    this.retryAt = this.now() + wait;
    return wait;
  }

  succeeded(): void {
    this.failures = 0;
    this.retryAt = 0;
  }

  /** How long until the next attempt may start (0: now). */
  remainingMs(): number {
    return Math.max(0, this.retryAt - this.now());
  }
}
