export interface WaitOptions {
  signal?: AbortSignal;
  /** How long the caller waits; absent: as long as the work takes. */
  timeoutMs?: number;
}

/**
 * Waits for `work` until the caller's signal aborts (rejecting with its reason) or its timeout
 * passes (rejecting with `onTimeout()`); the work itself goes on for others who share it.
 */
export function waitFor<T>(work: Promise<T>, o: WaitOptions, onTimeout: () => Error): Promise<T> {
  const { signal, timeoutMs } = o;
  if (!signal && timeoutMs === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => finish(() => reject(signal?.reason));
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) timer = setTimeout(() => finish(() => reject(onTimeout())), Math.max(0, timeoutMs));
    work.then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(err)),
    );
  });
}
